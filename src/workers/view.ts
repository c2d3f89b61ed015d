// A worker record as the rows of `cpwd status` show it (also used by `cpwd replay`, daemon-less).
import { ACTIVE_STATES, type WorkerView } from "../protocol/workers.js";
import type { WorkerRecord } from "./machine.js";

export function toView(w: WorkerRecord, nowMs: number): WorkerView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const active = ACTIVE_STATES.has(w.state);
  return {
    id: w.id,
    name: w.name,
    state: w.state,
    pid: active ? w.pid : null,
    command: w.argv,
    cwd: w.cwd,
    startedAt: iso(w.startedAtMs),
    endedAt: active ? null : iso(w.endedAtMs),
    runMs: w.startedAtMs === null ? null : Math.max(0, (active ? nowMs : (w.endedAtMs ?? nowMs)) - w.startedAtMs),
    restarts: w.restarts,
    exitCode: w.exitCode,
    signal: w.signal,
    timedOut: w.timedOut,
    reason: w.reason,
    nextStartAt: w.state === "backoff" ? iso(w.nextStartAtMs) : null,
    meta: w.meta,
  };
}
