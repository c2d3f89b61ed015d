// `worker.rerun`: a new run of an ended worker with a new command, on the supervisor shell with a
// fake runner, a fake clock and an in-memory log.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { workerMethodGroup } from "../../daemon/supervisor/worker-handlers.js";
import { workerDir } from "../../src/platform/paths.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { replayWorkers } from "../../src/workers/replay.js";
import { useFakeSupervisor } from "../helpers/fake-supervisor.js";
import { fakeContext, settle } from "../helpers/fakes.js";

const fake = useFakeSupervisor("cpwd-rerun-");

const spec = (over: Partial<WorkerSpec> = {}): WorkerSpec => ({
  argv: ["claude", "-p", "first"], name: "docs", cwd: "/", env: { A: "1" }, timeoutMs: 60_000, meta: { kind: "claude", prompt: "first" },
  restart: { mode: "on-failure", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 },
  ...over,
});

test("a rerun of an ended worker runs the new command as the same worker, with its folder, env and policies", async () => {
  await fake.sup.spawn(spec());
  await settle();
  fake.runner.finish("W1", 0);
  await settle();
  const view = await fake.sup.rerun("W1", ["claude", "-p", "second", "--resume", "S1"], { kind: "claude", prompt: "second" });
  assert.equal(view.id, "W1");
  await settle();
  assert.equal(fake.runner.launched.length, 2);
  const second = fake.runner.launched[1]!;
  assert.deepEqual(second.argv, ["claude", "-p", "second", "--resume", "S1"]);
  assert.equal(second.cwd, "/");
  assert.equal(second.env.A, "1", "the environment spawn gave it");
  assert.equal(second.timeoutMs, 60_000);
  const w = fake.sup.list()[0]!;
  assert.equal(w.state, "running");
  assert.equal(w.name, "docs");
  assert.deepEqual(w.command, ["claude", "-p", "second", "--resume", "S1"]);
  assert.deepEqual(w.meta, { kind: "claude", prompt: "second" });
  const queued = fake.log.records.filter((r) => r.type === "worker.queued");
  assert.equal(queued.length, 2);
  assert.equal(queued[1]!.payload.by, "rerun");
  assert.ok(!JSON.stringify(queued[1]).includes('"A":"1"'), "the environment stays out of the log");
  // spec.json says what runs now, and still holds the environment.
  const onDisk = JSON.parse(readFileSync(join(workerDir(fakeContext(fake.home, fake.clock, fake.log).paths, "W1"), "spec.json"), "utf8"));
  assert.deepEqual(onDisk.argv, ["claude", "-p", "second", "--resume", "S1"]);
  assert.deepEqual(onDisk.env, { A: "1" });
  // Replay gives the same worker: the new command and meta.
  const replayed = replayWorkers(fake.log.records).workers.get("W1")!;
  assert.deepEqual(replayed.argv, ["claude", "-p", "second", "--resume", "S1"]);
  assert.equal(replayed.meta.prompt, "second");
});

test("a rerun without meta keeps the worker's meta", async () => {
  await fake.sup.spawn(spec());
  await settle();
  fake.runner.finish("W1", 1);
  await settle();
  await fake.sup.stop("W1"); // cancels its backoff
  await fake.sup.rerun("W1", ["claude", "-p", "again"]);
  assert.deepEqual(fake.sup.list()[0]!.meta, { kind: "claude", prompt: "first" });
});

test("a worker that has not ended is refused, with the command that ends it, and nothing is recorded", async () => {
  await fake.sup.spawn(spec());
  await settle();
  const before = fake.log.records.length;
  await assert.rejects(fake.sup.rerun("W1", ["x"]), (err: Error & { code?: string }) => {
    assert.equal(err.code, "INVALID_STATE");
    assert.match(err.message, /^W1 is running: a new run can start once it has ended \(`cpwd stop W1` ends it now\)$/);
    return true;
  });
  assert.equal(fake.log.records.length, before);
  assert.equal(fake.runner.launched.length, 1);
});

test("worker.rerun takes one worker by id or name, never all", async () => {
  await fake.sup.spawn(spec());
  await settle();
  fake.runner.finish("W1", 0);
  await settle();
  const handlers = workerMethodGroup(fake.sup).handlers;
  await assert.rejects(Promise.resolve(handlers["worker.rerun"]({ target: "all", argv: ["x"] }, { connectionId: 1 })), /names one worker/);
  const r = await handlers["worker.rerun"]({ target: "docs", argv: ["y"] }, { connectionId: 1 });
  assert.deepEqual((r as { worker: { command: string[] } }).worker.command, ["y"]);
});
