// Restart policy and backoff arithmetic, with a fixed random source and explicit times.
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelayMs, classifyExit, decideAfterExit, wantsRestart } from "../../src/workers/policy.js";
import type { WorkerRecord } from "../../src/workers/machine.js";

function worker(over: Partial<WorkerRecord>): WorkerRecord {
  return {
    id: "W1", name: null, argv: ["x"], cwd: "/", timeoutMs: null, graceMs: 100,
    restart: { mode: "on-failure", maxRestarts: 3, windowMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 8_000, minUptimeMs: 30_000 },
    meta: {}, state: "failed", queuedSeq: 1, pid: null, wrapperPid: null, pidStartTime: null, wrapperStartTime: null,
    startedAtMs: 0, endedAtMs: 100, exitCode: 1, signal: null, timedOut: false, stopGraceMs: null, restarts: 0, runs: 1, restartTimesMs: [],
    attempt: 0, nextStartAtMs: null, reason: null, restartRequested: false, ...over,
  };
}

test("backoff doubles from the base to the cap, jitter keeps it in [d/2, d], and it never shrinks", () => {
  const base = 1_000;
  const max = 8_000;
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, base, max, () => 1)), [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelayMs(a, base, max, () => 0)), [500, 1_000, 2_000, 4_000]);
  for (let a = 0; a < 6; a++) {
    // The smallest delay of the next attempt is at least the largest of this one, until the cap.
    assert.ok(backoffDelayMs(a + 1, base, max, () => 0) >= Math.min(max / 2, backoffDelayMs(a, base, max, () => 1)) || a >= 3);
  }
  assert.equal(backoffDelayMs(1000, 1, 5, () => 1), 5, "huge attempts do not overflow");
});

test("which ends restart under each mode", () => {
  assert.equal(wantsRestart("never", "failed"), false);
  assert.equal(wantsRestart("on-failure", "failed"), true);
  assert.equal(wantsRestart("on-failure", "timed_out"), true);
  assert.equal(wantsRestart("on-failure", "exited"), false);
  assert.equal(wantsRestart("always", "exited"), true);
  assert.equal(wantsRestart("always", "stopped"), false, "a user's stop is final");
});

test("a crash loop: delays grow attempt by attempt, then fatal past the limit within the window", () => {
  let w = worker({});
  const delays: number[] = [];
  let now = 1_000;
  for (;;) {
    const d = decideAfterExit(w, now, () => 0.5);
    if (d.kind !== "backoff") {
      assert.equal(d.kind, "fatal");
      assert.match(d.kind === "fatal" ? d.reason : "", /restarted 3 times within 60s \(limit 3\)/);
      break;
    }
    delays.push(d.delayMs);
    w = { ...w, restarts: w.restarts + 1, restartTimesMs: [...w.restartTimesMs, now], attempt: d.attempt };
    now += d.delayMs + 50;
  }
  assert.deepEqual(delays, [750, 1_500, 3_000]);
});

test("restarts outside the window do not count; a long healthy run resets the backoff", () => {
  const old = worker({ restartTimesMs: [0, 1, 2], attempt: 3 });
  const d = decideAfterExit(old, 100_000, () => 1);
  assert.equal(d.kind, "backoff");
  assert.equal(d.kind === "backoff" && d.delayMs, 8_000);
  const healthy = decideAfterExit(worker({ attempt: 3, startedAtMs: 0, endedAtMs: 40_000 }), 40_000, () => 1);
  assert.equal(healthy.kind === "backoff" && healthy.delayMs, 1_000);
});

test("a run of minUptime or more is restarted without counting, even at the limit; a quick one at the limit is fatal", () => {
  const atLimit = { restartTimesMs: [1_000, 2_000, 3_000], restarts: 3, attempt: 3 };
  const healthy = decideAfterExit(worker({ ...atLimit, startedAtMs: 10_000, endedAtMs: 40_000 }), 40_000, () => 1);
  assert.deepEqual(healthy, { kind: "backoff", delayMs: 1_000, attempt: 1, counted: false });
  const quick = decideAfterExit(worker({ ...atLimit, startedAtMs: 39_000, endedAtMs: 40_000 }), 40_000, () => 1);
  assert.equal(quick.kind, "fatal");
  const neverStarted = decideAfterExit(worker({ startedAtMs: null, endedAtMs: 40_000 }), 40_000, () => 1);
  assert.equal(neverStarted.kind === "backoff" && neverStarted.counted, true, "a launch that failed is a quick failure");
});

test("an exit is classified by who ended it", () => {
  assert.equal(classifyExit({ code: 0, signal: null, timedOut: false }, false), "exited");
  assert.equal(classifyExit({ code: 2, signal: null, timedOut: false }, false), "failed");
  assert.equal(classifyExit({ code: null, signal: "SIGSEGV", timedOut: false }, false), "failed");
  assert.equal(classifyExit({ code: null, signal: "SIGTERM", timedOut: false }, true), "stopped");
  assert.equal(classifyExit({ code: null, signal: "SIGKILL", timedOut: true }, false), "timed_out");
  // A deadline passing during a user's stop: the user's stop wins, so no restart policy applies.
  assert.equal(classifyExit({ code: null, signal: "SIGKILL", timedOut: true }, true), "stopped");
});
