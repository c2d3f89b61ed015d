// The supervisor shell with a fake runner, a fake clock and an in-memory log: queueing, the
// concurrency limit, crash loops, stops, timeouts and user restarts, without real processes.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { Supervisor } from "../../daemon/workers/supervisor.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

let home: string;
let clock: FakeClock;
let log: MemoryLog;
let runner: FakeRunner;
let sup: Supervisor;

async function make(config = {}, seed = 0.5): Promise<void> {
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, config), runner, random: () => seed }, []);
}

function spec(over: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    argv: ["job"], cwd: "/", env: { A: "1" }, timeoutMs: null, meta: {},
    restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 },
    ...over,
  };
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-sup-"));
  clock = new FakeClock();
  log = new MemoryLog(clock);
  runner = new FakeRunner(clock);
});
afterEach(() => {
  sup?.close();
  rmSync(home, { recursive: true, force: true });
});

test("with maxParallel 2, six workers run two at a time, in FIFO order", async () => {
  await make({ maxParallel: 2 });
  for (let i = 0; i < 6; i++) await sup.spawn(spec({ name: `w${i}` }));
  await settle();
  assert.deepEqual(runner.running().sort(), ["W1", "W2"]);
  assert.deepEqual(sup.list().map((w) => w.state), ["running", "running", "queued", "queued", "queued", "queued"]);
  const order: string[] = [];
  while (runner.running().length > 0) {
    const id = runner.running().sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))[0]!;
    order.push(id);
    runner.finish(id, 0);
    await settle();
    assert.ok(runner.running().length <= 2);
  }
  assert.deepEqual(order, ["W1", "W2", "W3", "W4", "W5", "W6"]);
  assert.ok(sup.list().every((w) => w.state === "exited"));
  // The environment went to the runner, but never into the log.
  assert.equal(runner.launched[0]!.env.A, "1");
  assert.equal(runner.launched[0]!.env.CPWD_WORKER_ID, "W1");
  assert.ok(!JSON.stringify(log.records).includes('"A":"1"'));
});

test("a crash loop backs off with growing delays, then goes fatal", async () => {
  await make({}, 1);
  await sup.spawn(spec({ restart: { mode: "on-failure", maxRestarts: 3, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 } }));
  await settle();
  for (let i = 0; i < 4; i++) {
    runner.finish("W1", 1);
    await settle();
    const w = sup.list()[0]!;
    if (w.state === "fatal") break;
    assert.equal(w.state, "backoff");
    clock.advance(120_000);
    await settle();
  }
  const delays = log.records.filter((r) => r.type === "worker.backoff").map((r) => r.payload.delayMs);
  assert.deepEqual(delays, [1_000, 2_000, 4_000]);
  const w = sup.list()[0]!;
  assert.equal(w.state, "fatal");
  assert.equal(w.restarts, 3);
  assert.match(w.reason ?? "", /limit 3/);
  assert.equal(clock.pending(), 0, "no timer left behind");
});

test("stop: SIGTERM, then SIGKILL after the grace, and the end is `stopped`", async () => {
  await make();
  await sup.spawn(spec({ graceMs: 5_000 }));
  await settle();
  await sup.stop("W1");
  assert.deepEqual(runner.signals, [["W1", "SIGTERM"]]);
  clock.advance(4_999);
  assert.equal(runner.signals.length, 1);
  clock.advance(1);
  assert.deepEqual(runner.signals[1], ["W1", "SIGKILL"]);
  runner.finish("W1", null, "SIGKILL");
  await settle();
  assert.equal(sup.list()[0]!.state, "stopped");
  assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.started", "worker.stopping", "worker.exited"]);
});

test("a timed-out worker records worker.timeout and ends timed_out; a stopped queued one is cancelled", async () => {
  await make({ maxParallel: 1 });
  await sup.spawn(spec({ timeoutMs: 1_000 }));
  await sup.spawn(spec());
  await settle();
  runner.finish("W1", null, "SIGKILL", true);
  await settle();
  assert.equal(sup.list()[0]!.state, "timed_out");
  assert.ok(log.types("W1").includes("worker.timeout"));
  runner.finish("W2", 0);
  await settle();
  await sup.spawn(spec());
  await sup.spawn(spec());
  await settle();
  await sup.stop("W4");
  assert.equal(sup.list()[3]!.state, "stopped");
  assert.ok(log.types("W4").includes("worker.cancelled"));
});

test("a user restart of a running worker stops it and queues it again; rm refuses a running worker", async () => {
  await make();
  await sup.spawn(spec({ graceMs: 100 }));
  await settle();
  await assert.rejects(sup.remove("W1", false), /running; stop it first/);
  await sup.restart("W1");
  runner.finish("W1", null, "SIGTERM");
  await settle();
  assert.equal(sup.list()[0]!.state, "running");
  assert.equal(runner.launched.length, 2);
  assert.equal(sup.list()[0]!.restarts, 0, "a user restart does not count toward the crash loop");
  runner.finish("W1", 0);
  await settle();
  assert.deepEqual((await sup.remove("W1", false)).id, "W1");
  assert.equal(sup.list().length, 0);
  await sup.spawn(spec());
  assert.equal(sup.list()[0]!.id, "W2", "ids are never reused");
});
