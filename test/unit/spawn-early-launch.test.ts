// A new worker is launched while its `worker.queued` is being made durable (Supervisor.spawn): its
// start is recorded only after that record, and a record the log refuses (a full disk) takes the
// launched worker down with it, since nobody was told of it. With a slot taken, the worker waits
// in the queue as before.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

/** An in-memory log that refuses `worker.queued` (as a full disk would, after a while) when told to. */
class RefusingLog extends MemoryLog {
  refuseQueued = false;
  override async append(inputs: EventInput[]): Promise<EventRecord[]> {
    if (this.refuseQueued && inputs.some((i) => i.type === "worker.queued")) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new CpwdError(ErrorCode.Io, "the event log cannot be written (no space left on the device); nothing was recorded");
    }
    return super.append(inputs);
  }
}

function spec(): WorkerSpec {
  return { argv: ["job"], cwd: "/", env: { A: "1" }, timeoutMs: null, meta: {}, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 } };
}

async function withSupervisor(config: object, body: (sup: Supervisor, log: RefusingLog, runner: FakeRunner) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "cpwd-early-"));
  const clock = new FakeClock();
  const log = new RefusingLog(clock);
  const runner = new FakeRunner(clock);
  const sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, config), runner, random: () => 0.5 }, []);
  try {
    await body(sup, log, runner);
  } finally {
    await sup.close();
    rmSync(home, { recursive: true, force: true });
  }
}

test("a spawn with a free slot is launched at once, and its start recorded after its queued record", () =>
  withSupervisor({}, async (sup, log, runner) => {
    await sup.spawn(spec());
    await settle();
    assert.equal(runner.launched.length, 1);
    assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.started"]);
    assert.equal(sup.list()[0]!.state, "running");
  }));

test("a queued record the log refuses fails the spawn, and the worker launched meanwhile is killed", () =>
  withSupervisor({}, async (sup, log, runner) => {
    log.refuseQueued = true;
    await assert.rejects(sup.spawn(spec()), (err: unknown) => err instanceof CpwdError && err.code === ErrorCode.Io);
    await settle();
    assert.equal(runner.launched.length, 1, "launched while the record was being written");
    assert.deepEqual(runner.signals, [["W1", "SIGKILL"]]);
    assert.deepEqual(sup.list(), [], "never recorded");
    assert.deepEqual(log.types(), []);
    // The next spawn gets a new id, and runs.
    log.refuseQueued = false;
    assert.equal((await sup.spawn(spec())).id, "W2");
    await settle();
    assert.deepEqual(log.types("W2"), ["worker.queued", "worker.starting", "worker.started"]);
  }));

test("with every slot taken the new worker waits in the queue, and is not launched early", () =>
  withSupervisor({ maxParallel: 1 }, async (sup, log, runner) => {
    await sup.spawn(spec());
    await settle();
    await sup.spawn(spec());
    await settle();
    assert.equal(runner.launched.length, 1);
    assert.deepEqual(log.types("W2"), ["worker.queued"]);
    runner.finish("W1", 0);
    await settle();
    assert.equal(runner.launched.length, 2);
    assert.deepEqual(log.types("W2"), ["worker.queued", "worker.starting", "worker.started"]);
  }));
