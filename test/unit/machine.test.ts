// The worker state machine, edge by edge: every event type from every state is either the one
// allowed transition or refused, and the fixes to single edges.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allowed, evolve, TRANSITIONS, TransitionError, type WorkerRecord } from "../../src/workers/machine.js";
import { WORKER_STATES, type WorkerState } from "../../src/protocol/workers.js";
import { workerEvent as ev, workerSpec as spec } from "../helpers/worker-events.js";

const payloadFor: Record<string, Record<string, unknown>> = {
  "worker.queued": { spec },
  "worker.started": { pid: 10, wrapperPid: 9, startedAtMs: 1_000_000 },
  "worker.exited": { state: "failed", code: 1, signal: null, timedOut: false, runMs: 5, endedAtMs: 1_000_005 },
  "worker.backoff": { delayMs: 50, attempt: 1 },
  "worker.fatal": { reason: "loop" },
};

/** A worker record in the given state, built through the machine itself. */
function inState(state: WorkerState): WorkerRecord {
  const paths: Record<WorkerState, string[]> = {
    queued: ["worker.queued"],
    starting: ["worker.queued", "worker.starting"],
    running: ["worker.queued", "worker.starting", "worker.started"],
    stopping: ["worker.queued", "worker.starting", "worker.started", "worker.stopping"],
    exited: ["worker.queued", "worker.starting", "worker.started", "worker.exited:exited"],
    failed: ["worker.queued", "worker.starting", "worker.started", "worker.exited:failed"],
    timed_out: ["worker.queued", "worker.starting", "worker.started", "worker.exited:timed_out"],
    stopped: ["worker.queued", "worker.starting", "worker.started", "worker.stopping", "worker.exited:stopped"],
    backoff: ["worker.queued", "worker.starting", "worker.started", "worker.exited:failed", "worker.backoff"],
    fatal: ["worker.queued", "worker.starting", "worker.started", "worker.exited:failed", "worker.fatal"],
  };
  let w: WorkerRecord | undefined;
  for (const step of paths[state]) {
    const [type, exitState] = step.split(":") as [string, string | undefined];
    const payload = exitState ? { ...payloadFor[type], state: exitState } : (payloadFor[type] ?? {});
    w = evolve(w, ev(type, payload))!;
  }
  assert.equal(w!.state, state);
  return w!;
}

describe("every edge of the worker state machine", () => {
  for (const type of Object.keys(TRANSITIONS)) {
    for (const from of [...WORKER_STATES, "none" as const]) {
      const ok = allowed(type, from);
      test(`${type} from ${from}: ${ok ? "allowed" : "refused"}`, () => {
        const current = from === "none" ? undefined : inState(from);
        const payload = type === "worker.exited" ? { ...payloadFor[type], state: from === "stopping" ? "stopped" : "failed" } : (payloadFor[type] ?? {});
        if (!ok) {
          assert.throws(() => evolve(current, ev(type, payload)), TransitionError);
          return;
        }
        const next = evolve(current, ev(type, payload));
        const to = TRANSITIONS[type]!.to;
        if (to === "removed") assert.equal(next, null);
        else if (to === "same") assert.equal(next!.state, from);
        else if (to === "payload") assert.equal(next!.state, payload.state);
        else if (type === "worker.started" && from === "stopping") assert.equal(next!.state, "stopping");
        else assert.equal(next!.state, to);
      });
    }
  }

  test("worker.exited refuses a state that is not an end", () => {
    assert.throws(() => evolve(inState("running"), ev("worker.exited", { ...payloadFor["worker.exited"], state: "running" })), TransitionError);
  });

  test("a backoff counts a restart and schedules the next start; a user restart clears the counters", () => {
    const b = inState("backoff");
    assert.equal(b.restarts, 1);
    assert.equal(b.restartTimesMs.length, 1);
    assert.equal(b.nextStartAtMs, 1_000_000 + 50);
    const fatal = evolve(inState("failed"), ev("worker.fatal", { reason: "loop" }))!;
    const requeued = evolve(fatal, ev("worker.queued", { spec }))!;
    assert.equal(requeued.state, "queued");
    assert.deepEqual(requeued.restartTimesMs, []);
    assert.equal(requeued.attempt, 0);
  });

  test("a user restart counts in restarts (a rerun does not); each launch counts a run", () => {
    const ended = inState("backoff");
    assert.equal(ended.runs, 1);
    const again = evolve(evolve(ended, ev("worker.starting", {}))!, ev("worker.started", payloadFor["worker.started"]))!;
    assert.equal(again.runs, 2);
    const stopped = evolve(evolve(again, ev("worker.stopping", { graceMs: 0 }))!, ev("worker.exited", { ...payloadFor["worker.exited"], state: "stopped" }))!;
    const byUser = evolve(stopped, ev("worker.queued", { spec, by: "user restart" }))!;
    assert.equal(byUser.restarts, 2, "one by the policy, one by the user");
    assert.deepEqual(byUser.restartTimesMs, [], "the user's does not count toward the crash loop");
    const ran = evolve(evolve(byUser, ev("worker.starting", {}))!, ev("worker.exited", { ...payloadFor["worker.exited"], state: "failed" }))!;
    assert.equal(evolve(ran, ev("worker.queued", { spec, by: "rerun" }))!.restarts, 2);
  });
});

describe("fixes", () => {
  test("a second stop while stopping (a kill after a stop) keeps the shortest grace and any restart request", () => {
    const stopping = evolve(inState("starting"), ev("worker.stopping", { graceMs: 5_000, restart: true }))!;
    assert.equal(stopping.stopGraceMs, 5_000);
    const killed = evolve(stopping, ev("worker.stopping", { graceMs: 0, restart: false }))!;
    assert.equal(killed.state, "stopping");
    assert.equal(killed.stopGraceMs, 0);
    assert.equal(killed.restartRequested, true);
    assert.equal(evolve(killed, ev("worker.stopping", { graceMs: 2_000 }))!.stopGraceMs, 0);
    assert.equal(evolve(killed, ev("worker.started", payloadFor["worker.started"]))!.stopGraceMs, 0, "kept until the launch completes");
  });

  test("worker.starting clears the previous run's times, so a launch that fails shows none", () => {
    const starting = evolve(inState("backoff"), ev("worker.starting", { attempt: 1 }))!;
    assert.equal(starting.startedAtMs, null);
    assert.equal(starting.endedAtMs, null);
    const failed = evolve(starting, ev("worker.exited", { state: "failed", code: null, signal: null, timedOut: false, runMs: 0, endedAtMs: 1_000_100, reason: "could not start" }))!;
    assert.equal(failed.startedAtMs, null);
    assert.equal(failed.endedAtMs, 1_000_100);
  });

  test("a backoff after a healthy run (counted: false) is a restart but not in the crash-loop window", () => {
    const b = evolve(inState("failed"), ev("worker.backoff", { delayMs: 50, attempt: 1, counted: false }))!;
    assert.equal(b.restarts, 1);
    assert.deepEqual(b.restartTimesMs, []);
  });
});

test("a restart asked of one run is served once: a later run's stop does not restart it", () => {
  let w: WorkerRecord | null | undefined;
  const apply = (type: string, payload: Record<string, unknown> = payloadFor[type] ?? {}) => (w = evolve(w ?? undefined, ev(type, payload, "W9")));
  apply("worker.queued");
  apply("worker.starting");
  apply("worker.started");
  apply("worker.stopping", { graceMs: 100, restart: true });
  assert.equal(w!.restartRequested, true);
  // The run ended by its deadline instead (recorded before the stop), and the policy restarted it.
  apply("worker.exited", { state: "timed_out", code: null, signal: "SIGKILL", timedOut: true, runMs: 5, endedAtMs: 1_000_005 });
  apply("worker.backoff");
  assert.equal(w!.restartRequested, false, "served by the policy's restart");
  apply("worker.starting");
  apply("worker.started");
  apply("worker.stopping", { graceMs: 100, restart: false });
  assert.equal(w!.restartRequested, false, "a plain stop of the new run is only a stop");
  for (const [end, extra] of [["worker.fatal", { reason: "loop" }], ["worker.cancelled", { reason: "stopped" }]] as const) {
    w = undefined;
    apply("worker.queued");
    apply("worker.starting");
    apply("worker.started");
    apply("worker.stopping", { graceMs: 1, restart: true });
    apply("worker.exited", { state: end === "worker.fatal" ? "failed" : "stopped", code: 1, signal: null, timedOut: false, runMs: 1, endedAtMs: 1_000_001 });
    if (end === "worker.cancelled") {
      apply("worker.queued");
      apply("worker.cancelled", extra);
    } else apply(end, extra);
    assert.equal(w!.restartRequested, false, end);
  }
});
