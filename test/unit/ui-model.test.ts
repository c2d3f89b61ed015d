// What `cpwd ui` folds from the record: the worker table, each worker's runs and restarts on its
// timeline, the latest events, and per batch only what changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LiveModel } from "../../cli/ui/model.js";
import { workerEvent as ev, workerSpec as spec } from "../helpers/worker-events.js";

test("runs, restarts and stops of a worker land on its timeline; a batch reports only what it changed", () => {
  const m = new LiveModel({ now: () => 9_000 });
  const queued = m.apply([ev("worker.queued", { spec: { ...spec, name: "web" } }, "W1", 1_000), ev("worker.queued", { spec }, "W2", 1_000)]);
  assert.deepEqual(queued.workers.map((w) => [w.id, w.state]), [["W1", "queued"], ["W2", "queued"]]);
  const run1 = m.apply([
    ev("worker.starting", { attempt: 0 }, "W1", 1_100),
    ev("worker.started", { pid: 10, wrapperPid: 9, startedAtMs: 1_200 }, "W1", 1_200),
    ev("worker.exited", { state: "failed", code: 1, signal: null, timedOut: false, runMs: 300, endedAtMs: 1_500 }, "W1", 1_500),
    ev("worker.backoff", { delayMs: 1_000, attempt: 1 }, "W1", 1_500),
  ]);
  assert.deepEqual(run1.workers.map((w) => [w.id, w.state]), [["W1", "backoff"]], "W2 did not change");
  assert.equal(run1.events.length, 4);
  m.apply([
    ev("worker.starting", { attempt: 1 }, "W1", 2_500),
    ev("worker.started", { pid: 11, wrapperPid: 9, startedAtMs: 2_600 }, "W1", 2_600),
    ev("worker.stopping", { graceMs: 100 }, "W1", 3_000),
  ]);
  const stopped = m.apply([ev("worker.exited", { state: "stopped", code: null, signal: "SIGTERM", timedOut: false, runMs: 500, endedAtMs: 3_100 }, "W1", 3_100)]);
  const t = stopped.timelines[0]!;
  assert.equal(t.name, "web");
  assert.deepEqual(t.runs, [
    { startedAtMs: 1_200, endedAtMs: 1_500, state: "failed", exitCode: 1, signal: null },
    { startedAtMs: 2_600, endedAtMs: 3_100, state: "stopped", exitCode: null, signal: "SIGTERM" },
  ]);
  assert.deepEqual(t.marks.map((k) => k.kind), ["backoff", "stop"]);
  assert.equal(stopped.workers[0]!.state, "stopped");

  const snap = m.snapshot();
  assert.deepEqual(snap.workers.map((w) => w.id), ["W1", "W2"]);
  assert.equal(snap.lastSeq, stopped.lastSeq);
  assert.equal(snap.events.length, 10);

  const removed = m.apply([ev("worker.cancelled", { reason: "x" }, "W2", 4_000), ev("worker.removed", {}, "W2", 4_001)]);
  assert.deepEqual(removed.removed, ["W2"]);
  assert.deepEqual(m.snapshot().timelines.map((x) => x.id), ["W1"]);
  assert.equal(m.apply(removed.events).events.length, 0, "a batch seen already changes nothing");
});

test("only the latest events are kept for a new page", () => {
  const m = new LiveModel({ recentEvents: 5 });
  for (let i = 0; i < 20; i++) m.apply([ev("ext.x", { i }, "W1")]);
  assert.deepEqual(m.snapshot().events.map((e) => e.payload.i), [15, 16, 17, 18, 19]);
});
