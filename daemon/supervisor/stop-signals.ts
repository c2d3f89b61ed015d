// Stopping a running worker: SIGTERM to its process group now, SIGKILL at one deadline after the grace.
import type { Clock } from "../context.js";
import type { Runner } from "../runner/runner.js";
import type { LiveWorkers } from "./live-workers.js";

/** What signalling needs: the live workers (handles, deadlines), the runner and the clock. */
export interface StopSignalDeps {
  live: LiveWorkers;
  runner: Runner;
  clock: Clock;
}

/**
 * SIGTERM to the group now, SIGKILL after the grace (0: SIGKILL at once). Each worker has one
 * absolute SIGKILL deadline: a later stop may bring it forward, never push it back (the shortest
 * grace holds, counted from the stop that asked for it).
 */
export function signalStop({ live, runner, clock }: StopSignalDeps, id: string, graceMs: number): void {
  const w = live.get(id);
  const handle = w?.handle;
  if (!w || !handle) return; // the launch is in flight; going live calls us again once the pid is known, with stopGraceMs
  if (graceMs <= 0) {
    live.clearKillDeadline(id);
    runner.signal(handle, "SIGKILL");
    return;
  }
  runner.signal(handle, "SIGTERM");
  const atMs = clock.now() + graceMs;
  if (w.killDeadline && w.killDeadline.atMs <= atMs) return;
  live.setKillDeadline(id, atMs, () => {
    const h = live.get(id)?.handle;
    if (h) runner.signal(h, "SIGKILL");
  });
}
