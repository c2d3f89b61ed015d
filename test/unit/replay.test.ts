// Replaying the log into the workers table: ids never reused, refused events skipped and counted,
// and --at stopping the fold at a seq.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { replayWorkers } from "../../src/workers/replay.js";
import { workerEvent as ev, workerSpec as spec } from "../helpers/worker-events.js";

describe("replay", () => {
  test("ids are never reused, even after removal; refused events are skipped and counted", () => {
    const events = [
      ev("worker.queued", { spec }, "W1"),
      ev("worker.queued", { spec }, "W2"),
      ev("worker.cancelled", { reason: "x" }, "W2"),
      ev("worker.removed", {}, "W2"),
      ev("worker.started", { pid: 1, wrapperPid: 1, startedAtMs: 0 }, "W1"), // queued → started: refused
      ev("daemon.started", {}, undefined),
    ];
    const s = replayWorkers(events);
    assert.deepEqual([...s.workers.keys()], ["W1"]);
    assert.equal(s.nextNumber, 3);
    assert.equal(s.anomalies, 1);
  });

  test("--at stops the fold at a seq", () => {
    const first = ev("worker.queued", { spec }, "W7");
    const events = [first, ev("worker.starting", { attempt: 0 }, "W7"), ev("worker.started", { pid: 5, wrapperPid: 4, startedAtMs: 1 }, "W7")];
    assert.equal(replayWorkers(events, first.seq).workers.get("W7")!.state, "queued");
    assert.equal(replayWorkers(events).workers.get("W7")!.state, "running");
  });
});
