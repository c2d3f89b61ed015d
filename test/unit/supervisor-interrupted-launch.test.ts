// A daemon killed during a launch, after `worker.starting` but before the wrapper wrote run.json
// (found by the kill -9 chaos scenario): the worker never ran, so the next daemon queues it again
// and runs it, instead of recording it as lost.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AdoptResult } from "../../daemon/runner/runner.js";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

/** A runner that finds nothing of any worker: no run.json, no exit.json. */
class NothingFound extends FakeRunner {
  override async adopt(): Promise<AdoptResult> {
    return { kind: "lost", handle: null };
  }
}

const spec = { argv: ["job"], cwd: "/", name: null, timeoutMs: null, graceMs: 5_000, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 }, meta: {} };

test("a worker left `starting` with no run.json is queued again and run, not recorded as lost", async () => {
  const home = mkdtempSync(join(tmpdir(), "cpwd-sup-interrupted-"));
  const clock = new FakeClock();
  const log = new MemoryLog(clock);
  await log.append([
    { type: "worker.queued", worker: "W1", payload: { spec } },
    { type: "worker.starting", worker: "W1", payload: { attempt: 0 } },
  ]);
  const runner = new NothingFound(clock);
  const sup = await Supervisor.start({ ctx: fakeContext(home, clock, log), runner, random: () => 0.5 }, [...log.records]);
  try {
    await settle();
    assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.queued", "worker.starting", "worker.started"]);
    assert.equal(log.records[2]!.payload.by, "launch interrupted");
    assert.equal(sup.list()[0]!.state, "running");
    assert.equal(runner.launched.length, 1);
    runner.finish("W1", 0);
    await settle();
    assert.equal(sup.list()[0]!.state, "exited");
  } finally {
    sup.close();
    rmSync(home, { recursive: true, force: true });
  }
});
