// A daemon that launched a worker and died before recording it: the next daemon tells the launch
// from an earlier run by the launch number in run.json, not by its mtime, which a coarse clock or
// one stepped back can put on the wrong side of the last recorded end. A run.json with no number
// (from a wrapper of before the upgrade) is still judged by its mtime.
import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { AdoptResult } from "../../daemon/runner/runner.js";
import { workerDir } from "../../src/platform/paths.js";
import type { EventInput } from "../../src/protocol/events.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";
import { interruptedLaunch, JOB_SPEC, withRestartedSupervisor } from "../helpers/fake-supervisor.js";

/** A runner that finds the workers it is told running (with the pids their run.json names), and nothing of the others. */
class FindsRunning extends FakeRunner {
  constructor(
    clock: FakeClock,
    private readonly found: Set<string>,
  ) {
    super(clock);
  }
  override async adopt(...args: unknown[]): Promise<AdoptResult> {
    const workerId = String(args[0]);
    if (!this.found.has(workerId)) return { kind: "lost", handle: null };
    return { kind: "running", handle: { workerId, pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: Date.now() } };
  }
}

const spec = JOB_SPEC;
const HOUR_MS = 3_600_000;

/** One run that ended at `endedAtMs`, then a user restart: the worker is queued for its second launch. */
function ranOnceThenQueued(id: string, endedAtMs: number): EventInput[] {
  return [
    { type: "worker.queued", worker: id, payload: { spec } },
    { type: "worker.starting", worker: id, payload: { attempt: 0 } },
    { type: "worker.started", worker: id, payload: { pid: 10, wrapperPid: 11, startedAtMs: endedAtMs - 1_000 } },
    { type: "worker.exited", worker: id, payload: { state: "exited", code: 0, signal: null, timedOut: false, runMs: 1_000, endedAtMs } },
    { type: "worker.queued", worker: id, payload: { spec, by: "user restart" } },
  ];
}

/** Writes a worker's run.json with `fields` and sets its mtime to `mtimeMs`. */
function putRunJson(home: string, log: MemoryLog, clock: FakeClock, id: string, fields: Record<string, unknown>, mtimeMs: number): void {
  const dir = workerDir(fakeContext(home, clock, log).paths, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run.json"), JSON.stringify({ pid: 4242, wrapperPid: 4241, timerPid: null, ...fields }));
  utimesSync(join(dir, "run.json"), new Date(mtimeMs), new Date(mtimeMs));
}

test("run.json's launch number, not its mtime, tells a launch the record lacks from an earlier run's", () => {
  const endedAtMs = Date.now();
  return withRestartedSupervisor(
    {
      homePrefix: "cpwd-sup-unrecorded-",
      history: [...ranOnceThenQueued("W1", endedAtMs), ...ranOnceThenQueued("W2", endedAtMs), ...ranOnceThenQueued("W3", endedAtMs)],
      before: (home, clock, log) => {
        // W1: its second launch, unrecorded; the clock had stepped back, so run.json looks older than the first run's end.
        putRunJson(home, log, clock, "W1", { launch: 2 }, endedAtMs - HOUR_MS);
        // W2: its first run's run.json, left until the next launch; a clock ahead then makes it look newer than the end.
        putRunJson(home, log, clock, "W2", { launch: 1 }, endedAtMs + HOUR_MS);
        // W3: a wrapper from before the upgrade (no launch number), written after the end: judged by its mtime, a launch.
        putRunJson(home, log, clock, "W3", {}, endedAtMs + HOUR_MS);
      },
      makeRunner: (clock) => new FindsRunning(clock, new Set(["W1", "W3"])),
    },
    async ({ log, runner, sup }) => {
      await settle();
      const after = (id: string) => log.types(id).slice(5);
      assert.deepEqual(after("W1"), ["worker.starting", "worker.started"], "W1 adopted");
      assert.deepEqual(after("W3"), ["worker.starting", "worker.started"], "W3 adopted by the old rule");
      assert.deepEqual(runner.launched.map((l) => [l.workerId, l.launch]), [["W2", 2]], "only W2 launched, as its second launch; W1 not run twice");
      assert.deepEqual(sup.list().map((w) => [w.id, w.state, w.pid]), [["W1", "running", 4242], ["W2", "running", 1000], ["W3", "running", 4242]]);
    },
  );
});

test("a launch is numbered after every launch the record counts, an interrupted one included", () =>
  withRestartedSupervisor(
    {
      homePrefix: "cpwd-sup-unrecorded-",
      // The daemon died during W1's first launch, before run.json: it is queued again and launched as the second.
      history: interruptedLaunch("W1"),
      makeRunner: (clock) => new FindsRunning(clock, new Set()),
    },
    async ({ runner, sup }) => {
      await settle();
      assert.deepEqual(runner.launched.map((l) => l.launch), [2]);
      assert.equal(sup.list()[0]!.state, "running");
    },
  ));
