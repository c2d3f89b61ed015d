// Restart policy, pure: whether an ended worker is restarted, after how long, and when a crash
// loop is given up on (pm2's model: capped exponential backoff, a minimum uptime that resets it,
// and a restart limit within a window that marks the worker fatal).
import { plural } from "../protocol/plural.js";
import type { WorkerState } from "../protocol/workers.js";
import type { WorkerRecord } from "./machine.js";

/** Does this policy restart a worker that ended in `state`? A user's stop never restarts. */
export function wantsRestart(mode: WorkerRecord["restart"]["mode"], state: WorkerState): boolean {
  if (mode === "always") return state === "exited" || state === "failed" || state === "timed_out";
  if (mode === "on-failure") return state === "failed" || state === "timed_out";
  return false;
}

/**
 * The delay before restart number `attempt` (0-based): base·2^attempt capped at max, with "equal
 * jitter" — uniformly in [d/2, d] — so that many workers failing together do not restart in step,
 * while the delays still never shrink from one attempt to the next.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 40));
  return Math.round(d / 2 + random() * (d / 2));
}

export type AfterExit =
  /** `counted`: the run was a quick failure, so this restart counts toward the crash-loop limit. */
  | { kind: "backoff"; delayMs: number; attempt: number; counted: boolean }
  | { kind: "fatal"; reason: string }
  | { kind: "none" };

/**
 * What follows an ended run, given the worker as `worker.exited` left it. Only quick failures (runs
 * shorter than `minUptimeMs`, or that never started) count toward the crash loop, as pm2's
 * min_uptime: a worker that runs for hours and fails now and then is restarted every time.
 */
export function decideAfterExit(w: WorkerRecord, nowMs: number, random: () => number): AfterExit {
  const p = w.restart;
  if (!wantsRestart(p.mode, w.state)) return { kind: "none" };
  const ranMs = w.startedAtMs !== null && w.endedAtMs !== null ? w.endedAtMs - w.startedAtMs : 0;
  const healthy = ranMs >= p.minUptimeMs;
  if (healthy) {
    // A run that lasted long enough: start the backoff over, and do not count it as a crash.
    return { kind: "backoff", delayMs: backoffDelayMs(0, p.backoffBaseMs, p.backoffMaxMs, random), attempt: 1, counted: false };
  }
  const recent = w.restartTimesMs.filter((t) => nowMs - t < p.windowMs).length;
  if (recent >= p.maxRestarts) {
    return { kind: "fatal", reason: `restarted ${plural(recent, "time")} within ${Math.round(p.windowMs / 1000)}s (limit ${p.maxRestarts}); not restarting` };
  }
  return { kind: "backoff", delayMs: backoffDelayMs(w.attempt, p.backoffBaseMs, p.backoffMaxMs, random), attempt: w.attempt + 1, counted: true };
}

/**
 * The state an exit puts a worker in: cpwd's own stop and timeout are told apart from failures.
 * A user's stop wins over a deadline that passed during its grace: the user asked for the worker
 * to end, and a `timed_out` would hand it to the restart policy (`timedOut` is still recorded).
 */
export function classifyExit(exit: { code: number | null; signal: string | null; timedOut: boolean }, stopping: boolean): WorkerState {
  if (stopping) return "stopped";
  if (exit.timedOut) return "timed_out";
  return exit.code === 0 ? "exited" : "failed";
}
