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
  /**
   * Restarts so far, the policy's and the user's (`cpwd restart`), as pm2's ↺ counts them. Only the
   * policy's quick failures count toward the crash-loop limit (`restartTimesMs`); a rerun is not one.
   */
  restarts: number;
  /** Launches so far (each `worker.starting`): what a worker stopped while waiting had done. */
  runs: number;
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
  // From starting too: a launch a daemon crash cut short before the worker ran is queued again.
  "worker.queued": { from: ["none", "starting", "exited", "failed", "timed_out", "stopped", "fatal"], to: "queued" },
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
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The parts of an event the machine reads. */
type WorkerEvent = Pick<EventRecord, "type" | "seq" | "ts" | "payload" | "worker">;

/** What a reducer gets: the worker (undefined only for worker.queued), the event, its facts. */
interface Step {
  w: WorkerRecord | undefined;
  e: WorkerEvent;
  id: string;
  from: WorkerState | "none";
  /** The event's time, ms. */
  atMs: number;
}

/**
 * Applies one event. `current` is undefined for a worker not seen yet. Returns the new record, or
 * null when the event removed the worker. Throws TransitionError for a forbidden transition.
 */
export function evolve(current: WorkerRecord | undefined, e: WorkerEvent): WorkerRecord | null {
  const from: WorkerState | "none" = current?.state ?? "none";
  const id = e.worker ?? current?.id ?? "?";
  const reduce = REDUCERS[e.type];
  if (!reduce || !allowed(e.type, from)) throw new TransitionError(e.type, from, id);
  return reduce({ w: current, e, id, from, atMs: Date.parse(e.ts) });
}

/** A new worker's record from its queued spec: nothing run yet. */
function newRecord(id: string, seq: number, spec: Partial<WorkerRecord> & { restart: WorkerRecord["restart"] }): WorkerRecord {
  return {
    id,
    name: spec.name ?? null,
    argv: spec.argv ?? [],
    cwd: spec.cwd ?? "/",
    timeoutMs: spec.timeoutMs ?? null,
    graceMs: spec.graceMs ?? 10_000,
    restart: spec.restart,
    meta: spec.meta ?? {},
    state: "queued",
    queuedSeq: seq,
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
    runs: 0,
    restartTimesMs: [],
    attempt: 0,
    nextStartAtMs: null,
    reason: null,
    restartRequested: false,
  };
}

/** One reducer per transition type; `allowed` has already checked the state it comes from. */
const REDUCERS: Record<keyof typeof TRANSITIONS, (s: Step) => WorkerRecord | null> = {
  "worker.queued": ({ w, e, id, from }) => {
    const spec = e.payload.spec as Partial<WorkerRecord> & { restart: WorkerRecord["restart"] };
    // A known worker queued again (a user restart, a rerun) takes its command and meta from the
    // payload: a rerun changes them; everything else stays as it was spawned.
    const base = w ? { ...w, argv: Array.isArray(spec.argv) ? spec.argv : w.argv, meta: isObject(spec.meta) ? spec.meta : w.meta } : newRecord(id, e.seq, spec);
    // An interrupted launch is the same start again: its crash-loop counters stay.
    if (from === "starting") return { ...base, state: "queued", queuedSeq: e.seq, reason: null, nextStartAtMs: null, stopGraceMs: null };
    // A user restart (of a worker that ran, or was stopped to restart) counts as a restart, and is
    // a clean slate for the crash-loop counters; so is a rerun, which does not count.
    const restarts = w && e.payload.by === "user restart" ? base.restarts + 1 : base.restarts;
    return { ...base, state: "queued", queuedSeq: e.seq, restarts, restartTimesMs: [], attempt: 0, reason: null, nextStartAtMs: null, restartRequested: false, stopGraceMs: null };
  },
  // The previous run's times go: a launch that fails must not show (or be judged by) them.
  "worker.starting": ({ w }) => ({
    ...w!,
    state: "starting",
    runs: w!.runs + 1,
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
  }),
  "worker.started": ({ w, e, atMs }) => ({
    ...w!,
    state: w!.state === "stopping" ? "stopping" : "running",
    pid: num(e.payload.pid),
    wrapperPid: num(e.payload.wrapperPid),
    pidStartTime: str(e.payload.pidStartTime),
    wrapperStartTime: str(e.payload.wrapperStartTime),
    startedAtMs: num(e.payload.startedAtMs) ?? atMs,
    endedAtMs: null,
  }),
  "worker.stopping": ({ w, e }) => {
    const graceMs = num(e.payload.graceMs);
    const stopGraceMs = graceMs === null ? w!.stopGraceMs : Math.min(graceMs, w!.stopGraceMs ?? graceMs);
    // A reason (cpwd's own stop: over a cost limit) is kept for the end to record.
    const reason = str(e.payload.reason) ?? w!.reason;
    return { ...w!, state: "stopping", stopGraceMs, reason, restartRequested: e.payload.restart === true || w!.restartRequested };
  },
  "worker.timeout": ({ w }) => ({ ...w!, timedOut: true }),
  "worker.exited": ({ w, e, id, from, atMs }) => {
    const p = e.payload;
    const state = p.state as WorkerState;
    if (!EXIT_STATES.has(state)) throw new TransitionError(`${e.type}(${String(p.state)})`, from, id);
    return {
      ...w!,
      state,
      exitCode: num(p.code),
      signal: str(p.signal),
      timedOut: p.timedOut === true || w!.timedOut,
      endedAtMs: num(p.endedAtMs) ?? atMs,
      // startedAtMs stays null for a run that never started (a failed launch, lost while starting).
      reason: str(p.reason),
      pid: null,
      stopGraceMs: null,
    };
  },
  "worker.backoff": ({ w, e, atMs }) => ({
    ...w!,
    state: "backoff",
    restarts: w!.restarts + 1,
    // A restart after a healthy run (`counted: false`) does not count toward the crash loop.
    restartTimesMs: e.payload.counted === false ? w!.restartTimesMs : [...w!.restartTimesMs, atMs],
    attempt: num(e.payload.attempt) ?? w!.attempt + 1,
    nextStartAtMs: atMs + (num(e.payload.delayMs) ?? 0),
    restartRequested: false,
  }),
  "worker.fatal": ({ w, e }) => ({ ...w!, state: "fatal", reason: str(e.payload.reason), restartRequested: false }),
  "worker.cancelled": ({ w, e }) => ({ ...w!, state: "stopped", nextStartAtMs: null, reason: str(e.payload.reason), restartRequested: false }),
  "worker.removed": () => null,
};
