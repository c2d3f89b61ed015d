// The worker state machine, pure. `evolve` folds one worker event into a worker record — live and
// in replay — and refuses any event its state does not allow, so an impossible transition cannot
// be applied by construction. Decisions (what to record next) live in policy.ts and supervisor.ts.
import type { WorkerState } from "../protocol/workers.js";
import type { EventRecord } from "../protocol/events.js";

/** Everything the supervisor knows of one worker; rebuilt from events alone. */
export interface WorkerRecord {
  id: string;
  /** The spec without `env` (which stays in workers/W<N>/spec.json, 0600). */
  name: string | null;
  argv: string[];
  cwd: string;
  timeoutMs: number | null;
  graceMs: number;
  restart: { mode: "never" | "on-failure" | "always"; maxRestarts: number; windowMs: number; backoffBaseMs: number; backoffMaxMs: number; minUptimeMs: number };
  meta: Record<string, unknown>;
  state: WorkerState;
  queuedSeq: number;
  pid: number | null;
  wrapperPid: number | null;
  pidStartTime: string | null;
  wrapperStartTime: string | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The grace the pending stop asked for (the shortest, when stopped again); null when none. */
  stopGraceMs: number | null;
  /** Policy restarts so far (user restarts do not count). */
  restarts: number;
  /** When each policy restart after a quick failure happened, for the crash-loop window. */
  restartTimesMs: number[];
  /** Consecutive short runs: the backoff exponent. */
  attempt: number;
  nextStartAtMs: number | null;
  reason: string | null;
  /** A user asked for a restart while it ran: start again once it has stopped. */
  restartRequested: boolean;
}

/** The event types that move a worker, and the states each may come from. */
export const TRANSITIONS: Record<string, { from: ReadonlyArray<WorkerState | "none">; to: WorkerState | "same" | "payload" | "removed" }> = {
  "worker.queued": { from: ["none", "exited", "failed", "timed_out", "stopped", "fatal"], to: "queued" },
  "worker.starting": { from: ["queued", "backoff"], to: "starting" },
  // From stopping too: a stop can arrive while the launch is still under way.
  "worker.started": { from: ["starting", "stopping"], to: "running" },
  // From stopping too: a kill (grace 0) or a restart may follow a stop still in progress.
  "worker.stopping": { from: ["starting", "running", "stopping"], to: "stopping" },
  "worker.timeout": { from: ["running", "stopping"], to: "same" },
  "worker.exited": { from: ["starting", "running", "stopping"], to: "payload" },
  "worker.backoff": { from: ["exited", "failed", "timed_out"], to: "backoff" },
  "worker.fatal": { from: ["exited", "failed", "timed_out"], to: "fatal" },
  "worker.cancelled": { from: ["queued", "backoff"], to: "stopped" },
  "worker.removed": { from: ["exited", "failed", "timed_out", "stopped", "fatal"], to: "removed" },
};

/** States `worker.exited` may carry. */
const EXIT_STATES = new Set<WorkerState>(["exited", "failed", "timed_out", "stopped"]);

export class TransitionError extends Error {
  constructor(
    readonly eventType: string,
    readonly from: WorkerState | "none",
    readonly workerId: string,
  ) {
    super(`${eventType} is not allowed for ${workerId} in state ${from}`);
  }
}

/** True if the event type is one the machine handles (others, e.g. worker.claude, pass by). */
export function isTransition(type: string): boolean {
  return type in TRANSITIONS;
}

/** May `type` be applied to a worker in `from`? */
export function allowed(type: string, from: WorkerState | "none"): boolean {
  const t = TRANSITIONS[type];
  return t !== undefined && t.from.includes(from);
}

const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * Applies one event. `current` is undefined for a worker not seen yet. Returns the new record, or
 * null when the event removed the worker. Throws TransitionError for a forbidden transition.
 */
export function evolve(current: WorkerRecord | undefined, e: Pick<EventRecord, "type" | "seq" | "ts" | "payload" | "worker">): WorkerRecord | null {
  const from: WorkerState | "none" = current?.state ?? "none";
  const t = TRANSITIONS[e.type];
  const id = e.worker ?? current?.id ?? "?";
  if (!t || !t.from.includes(from)) throw new TransitionError(e.type, from, id);
  const p = e.payload;
  const atMs = Date.parse(e.ts);
  switch (e.type) {
    case "worker.queued": {
      const spec = p.spec as Partial<WorkerRecord> & { restart: WorkerRecord["restart"] };
      const base: WorkerRecord = current ?? {
        id,
        name: spec.name ?? null,
        argv: spec.argv ?? [],
        cwd: spec.cwd ?? "/",
        timeoutMs: spec.timeoutMs ?? null,
        graceMs: spec.graceMs ?? 10_000,
        restart: spec.restart,
        meta: spec.meta ?? {},
        state: "queued",
        queuedSeq: e.seq,
        pid: null,
        wrapperPid: null,
        pidStartTime: null,
        wrapperStartTime: null,
        startedAtMs: null,
        endedAtMs: null,
        exitCode: null,
        signal: null,
        timedOut: false,
        stopGraceMs: null,
        restarts: 0,
        restartTimesMs: [],
        attempt: 0,
        nextStartAtMs: null,
        reason: null,
        restartRequested: false,
      };
      // A user restart of an ended worker: a clean slate for the crash-loop counters.
      return { ...base, state: "queued", queuedSeq: e.seq, restartTimesMs: [], attempt: 0, reason: null, nextStartAtMs: null, restartRequested: false, stopGraceMs: null };
    }
    case "worker.starting":
      // The previous run's times go: a launch that fails must not show (or be judged by) them.
      return {
        ...current!,
        state: "starting",
        pid: null,
        wrapperPid: null,
        startedAtMs: null,
        endedAtMs: null,
        exitCode: null,
        signal: null,
        timedOut: false,
        nextStartAtMs: null,
        reason: null,
        stopGraceMs: null,
        // A new run: a restart asked of an earlier one has been served (or overtaken).
        restartRequested: false,
      };
    case "worker.started":
      return {
        ...current!,
        state: current!.state === "stopping" ? "stopping" : "running",
        pid: num(p.pid),
        wrapperPid: num(p.wrapperPid),
        pidStartTime: str(p.pidStartTime),
        wrapperStartTime: str(p.wrapperStartTime),
        startedAtMs: num(p.startedAtMs) ?? atMs,
        endedAtMs: null,
      };
    case "worker.stopping": {
      const graceMs = num(p.graceMs);
      const stopGraceMs = graceMs === null ? current!.stopGraceMs : Math.min(graceMs, current!.stopGraceMs ?? graceMs);
      return { ...current!, state: "stopping", stopGraceMs, restartRequested: p.restart === true || current!.restartRequested };
    }
    case "worker.timeout":
      return { ...current!, timedOut: true };
    case "worker.exited": {
      const state = p.state as WorkerState;
      if (!EXIT_STATES.has(state)) throw new TransitionError(`${e.type}(${String(p.state)})`, from, id);
      return {
        ...current!,
        state,
        exitCode: num(p.code),
        signal: str(p.signal),
        timedOut: p.timedOut === true || current!.timedOut,
        endedAtMs: num(p.endedAtMs) ?? atMs,
        // Stays null for a run that never started (a failed launch, a worker lost while starting).
        startedAtMs: current!.startedAtMs,
        reason: str(p.reason),
        pid: null,
        stopGraceMs: null,
      };
    }
    case "worker.backoff":
      return {
        ...current!,
        state: "backoff",
        restarts: current!.restarts + 1,
        // A restart after a healthy run (`counted: false`) does not count toward the crash loop.
        restartTimesMs: p.counted === false ? current!.restartTimesMs : [...current!.restartTimesMs, atMs],
        attempt: num(p.attempt) ?? current!.attempt + 1,
        nextStartAtMs: atMs + (num(p.delayMs) ?? 0),
        restartRequested: false,
      };
    case "worker.fatal":
      return { ...current!, state: "fatal", reason: str(p.reason), restartRequested: false };
    case "worker.cancelled":
      return { ...current!, state: "stopped", nextStartAtMs: null, reason: str(p.reason), restartRequested: false };
    case "worker.removed":
      return null;
  }
  throw new TransitionError(e.type, from, id);
}
