// A supervisor whose event log refuses writes for a while (a full disk; found by the disk-trouble
// chaos scenario): a queued worker whose `worker.starting` was refused kept its state but left
// the queue, and never started once the disk was freed; an end whose `worker.exited` was refused
// was never recorded, nor a start whose `worker.started` was refused (the worker then ran
// unfollowed). Each is now offered again until the log takes it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { EventInput } from "../../src/protocol/events.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { useFakeSupervisor } from "../helpers/fake-supervisor.js";
import { MemoryLog, settle } from "../helpers/fakes.js";

/** A log that refuses, as a full disk makes the real one, the event types in `refusing`. */
class FullDiskLog extends MemoryLog {
  refusing = new Set<string>();
  override async append(inputs: EventInput[]) {
    if (inputs.some((i) => this.refusing.has(i.type))) throw new CpwdError(ErrorCode.Io, "the event log cannot be written (ENOSPC: no space left on the device); nothing was recorded");
    return super.append(inputs);
  }
}

const spec: WorkerSpec = { argv: ["job"], cwd: "/", env: {}, timeoutMs: null, meta: {}, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 } };

const fake = useFakeSupervisor("cpwd-sup-full-", (clock) => new FullDiskLog(clock));

/** The one worker's state. */
const state = () => fake.sup.list()[0]!.state;

/** Lets a second pass, in which the supervisor offers again what the log refused. */
async function retryAfterOneSecond(): Promise<void> {
  fake.clock.advance(1_000);
  await settle();
}

/** Frees the disk, and lets the supervisor's next offer go through. */
async function freeTheDisk(): Promise<void> {
  fake.log.refusing.clear();
  await retryAfterOneSecond();
}

test("a start the log refused is tried again, and the worker starts once the log takes it", async () => {
  fake.log.refusing.add("worker.starting");
  await fake.sup.spawn(spec);
  await settle();
  // A launch comes first and is recorded with its start: launched, not recorded yet.
  assert.equal(state(), "queued");
  assert.equal(fake.runner.launched.length, 1);
  await retryAfterOneSecond();
  assert.equal(state(), "queued", "still refused: still queued");
  await freeTheDisk();
  assert.equal(state(), "running");
  assert.equal(fake.runner.launched.length, 1, "launched once");
});

test("an end the log refused is recorded once the log takes it", async () => {
  await fake.sup.spawn(spec);
  await settle();
  fake.log.refusing.add("worker.exited");
  fake.runner.finish("W1", 0);
  await settle();
  assert.equal(state(), "running", "not recorded yet");
  await freeTheDisk();
  assert.equal(state(), "exited");
  assert.equal(fake.sup.list()[0]!.exitCode, 0);
});

test("a start whose worker.started the log refused is recorded once the log takes it, and the worker followed", async () => {
  fake.log.refusing.add("worker.started");
  await fake.sup.spawn(spec);
  await settle();
  assert.equal(state(), "queued", "launched, not recorded yet");
  await freeTheDisk();
  assert.equal(state(), "running");
  fake.runner.finish("W1", 0);
  await settle();
  assert.equal(state(), "exited", "its end is followed");
});
