// A daemon that launched a worker's second run (a real wrapper) and died before recording it, on a
// file system whose coarse mtimes put run.json no later than the first run's recorded end: the next
// daemon knows the launch by the number the wrapper wrote into run.json, and adopts the worker
// instead of running it a second time.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import type { LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import { workerDir } from "../../src/platform/paths.js";
import { tempHome, waitFor } from "../helpers/daemon.js";
import { FakeClock, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";
import { nodeFixture } from "../helpers/fixtures.js";
import { killGroups } from "../helpers/kill.js";

/** The process runner, keeping what it launched (to count, and to kill at the end). */
class CountingRunner extends ProcessRunner {
  readonly launched: LaunchSpec[] = [];
  readonly handles: WorkerHandle[] = [];
  override async launch(spec: LaunchSpec): Promise<WorkerHandle> {
    this.launched.push(spec);
    const handle = await super.launch(spec);
    this.handles.push(handle);
    return handle;
  }
}

test("a launch the record lacks is adopted by its launch number even when run.json's mtime is no later than the last end", async () => {
  const home = tempHome("cpwd-unrecorded-launch-");
  const clock = new FakeClock();
  const log = new MemoryLog(clock);
  const ctx = fakeContext(home, clock, log);
  const dir = workerDir(ctx.paths, "W1");
  const argv = nodeFixture("sleep.js", "60000");
  const env = { PATH: process.env.PATH ?? "" };
  const spec = { argv, cwd: home, name: null, timeoutMs: null, graceMs: 100, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 }, meta: {} };
  const endedAtMs = Date.now();
  // The record: one run, ended now, then a user restart.
  await log.append([
    { type: "worker.queued", worker: "W1", payload: { spec } },
    { type: "worker.starting", worker: "W1", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W1", payload: { pid: 10, wrapperPid: 11, startedAtMs: endedAtMs - 1_000 } },
    { type: "worker.exited", worker: "W1", payload: { state: "exited", code: 0, signal: null, timedOut: false, runMs: 1_000, endedAtMs } },
    { type: "worker.queued", worker: "W1", payload: { spec, by: "user restart" } },
  ]);
  // The first daemon launched the second run, as the supervisor does, and died before its commit.
  const first = new ProcessRunner({ home });
  const launched = await first.launch({ workerId: "W1", argv, cwd: home, env, dir, timeoutMs: null, graceMs: 100, launch: 2 });
  first.close();
  const runner = new CountingRunner({ home });
  let second: Supervisor | undefined;
  try {
    await waitFor("run.json", () => existsSync(join(dir, "run.json")));
    assert.equal(JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).launch, 2, "the wrapper writes the launch number");
    // The same tick as the end, as a file system with coarse mtimes may give it: by time, no launch.
    utimesSync(join(dir, "run.json"), new Date(endedAtMs), new Date(endedAtMs));
    second = await Supervisor.start({ ctx, runner, random: () => 0.5 }, [...log.records]);
    await settle();
    assert.deepEqual(runner.launched, [], "not launched a second time");
    assert.deepEqual(log.types("W1").slice(5), ["worker.starting", "worker.started"]);
    const w = second.list()[0]!;
    assert.equal(w.state, "running");
    assert.equal(w.pid, launched.pid, "the worker the first daemon launched");
  } finally {
    await second?.close();
    killGroups([launched, ...runner.handles].flatMap((h) => [h.pid, h.wrapperPid]));
    rmSync(home, { recursive: true, force: true });
  }
});
