// A supervisor whose event log refuses writes for a while (a full disk; found by the disk-trouble
// chaos scenario): a queued worker whose `worker.starting` was refused kept its state but left
// the queue, and never started once the disk was freed; an end whose `worker.exited` was refused
// was never recorded, nor a start whose `worker.started` was refused (the worker then ran
// unfollowed). Each is now offered again until the log takes it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { EventInput } from "../../src/protocol/events.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

/** A log that refuses, as a full disk makes the real one, the event types in `refusing`. */
class FullDiskLog extends MemoryLog {
  refusing = new Set<string>();
  override async append(inputs: EventInput[]) {
    if (inputs.some((i) => this.refusing.has(i.type))) throw new CpwdError(ErrorCode.Io, "the event log cannot be written (ENOSPC: no space left on the device); nothing was recorded");
    return super.append(inputs);
  }
}

const spec: WorkerSpec = { argv: ["job"], cwd: "/", env: {}, timeoutMs: null, meta: {}, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 } };

let home: string;
let clock: FakeClock;
let log: FullDiskLog;
let runner: FakeRunner;
let sup: Supervisor;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "cpwd-sup-full-"));
  clock = new FakeClock();
  log = new FullDiskLog(clock);
  runner = new FakeRunner(clock);
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log), runner, random: () => 0.5 }, []);
});
afterEach(() => {
  sup.close();
  rmSync(home, { recursive: true, force: true });
});

test("a start the log refused is tried again, and the worker starts once the log takes it", async () => {
  log.refusing.add("worker.starting");
  await sup.spawn(spec);
  await settle();
  assert.equal(sup.list()[0]!.state, "queued");
  assert.equal(runner.launched.length, 0);
  clock.advance(1_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "queued", "still refused: still queued");
  log.refusing.clear();
  clock.advance(1_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "running");
  assert.equal(runner.launched.length, 1);
});

test("an end the log refused is recorded once the log takes it", async () => {
  await sup.spawn(spec);
  await settle();
  log.refusing.add("worker.exited");
  runner.finish("W1", 0);
  await settle();
  assert.equal(sup.list()[0]!.state, "running", "not recorded yet");
  log.refusing.clear();
  clock.advance(1_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "exited");
  assert.equal(sup.list()[0]!.exitCode, 0);
});

test("a start whose worker.started the log refused is recorded once the log takes it, and the worker followed", async () => {
  log.refusing.add("worker.started");
  await sup.spawn(spec);
  await settle();
  assert.equal(sup.list()[0]!.state, "starting", "launched, not recorded yet");
  log.refusing.clear();
  clock.advance(1_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "running");
  runner.finish("W1", 0);
  await settle();
  assert.equal(sup.list()[0]!.state, "exited", "its end is followed");
});
