// One worker's history as runs, for `cpwd status W3`: a pure fold over that worker's events. A run
// is one launch (`worker.starting`) to its end (`worker.exited`), with why it was launched, how it
// ended and what followed (a backoff, fatal, a user's restart); a Claude worker's runs carry what
// `worker.claude` recorded of each (session, cost, turns).
import type { EventRecord } from "../protocol/events.js";

/**
 * A run's Claude facts, as the last `worker.claude` of it recorded them. (A type, not an
 * interface, so the daemon's fuller `ClaudeInfo` built on it fits Record<string, unknown>.)
 */
export type RunClaude = {
  /** Which run of the worker this is (1 for the first; a restart or `--resume` is a new run). */
  run: number;
  sessionId: string | null;
  model: string | null;
  turns: number | null;
  costUsd: number | null;
  isError: boolean | null;
  subtype: string | null;
};

export interface WorkerRun {
  /** 1 for the first launch. */
  number: number;
  /** What launched it: "spawn", "restart policy", "user restart", "rerun", or "relaunch" (a launch a daemon restart cut short). */
  cause: string;
  /** When the launch began (`worker.starting`). */
  launchedAt: string;
  /** When its process started; null for a launch that failed. */
  startedAt: string | null;
  pid: number | null;
  endedAt: string | null;
  /** How it ended (exited, failed, timed_out, stopped); null while it runs. */
  state: string | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  runMs: number | null;
  /** Why it ended so, when that needs saying (cpwd's own stop, a lost wrapper, a launch error). */
  reason: string | null;
  /** What the daemon did next: "backoff 2s", "fatal: …", "restarted by user", "rerun", "cancelled: …"; null if nothing (yet). */
  then: string | null;
  claude: RunClaude | null;
}

export interface WorkerHistory {
  /** The spec as last queued (argv, name, cwd, timeoutMs, graceMs, restart, meta; never env). */
  spec: Record<string, unknown> | null;
  /** How many environment variables it was given (neither names nor values are recorded). */
  envCount: number | null;
  queuedAt: string | null;
  runs: WorkerRun[];
  /** Restarts over the whole history, as the RESTARTS column counts them: the policy's (backoffs) and the user's. */
  restarts: number;
  /** Of those, the ones a user asked for (`cpwd restart`). */
  userRestarts: number;
  removed: boolean;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const iso = (ms: number | null, fallback: string): string => (ms === null ? fallback : new Date(ms).toISOString());

function claudeOf(p: Record<string, unknown>, prev: RunClaude | null): RunClaude {
  // Each worker.claude is the run's progress so far: later ones replace earlier ones' fields.
  return {
    run: num(p.run) ?? prev?.run ?? 1,
    sessionId: str(p.sessionId) ?? prev?.sessionId ?? null,
    model: str(p.model) ?? prev?.model ?? null,
    turns: num(p.turns) ?? prev?.turns ?? null,
    costUsd: num(p.costUsd) ?? prev?.costUsd ?? null,
    isError: typeof p.isError === "boolean" ? p.isError : (prev?.isError ?? null),
    subtype: str(p.subtype) ?? prev?.subtype ?? null,
  };
}

/** A backoff delay as a run's `then` says it: "800ms", "2s", "1.5s". */
function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 100) / 10}s`;
}

/** The fold's state while it reads a worker's events: the history so far and what is open. */
interface Fold {
  h: WorkerHistory;
  /** What launches the next run. */
  cause: string;
  /** The run launched and not yet ended. */
  open: WorkerRun | null;
  /** Claude facts recorded before the launch they belong to. */
  pendingClaude: RunClaude | null;
  /** Runs by the Claude run number their `worker.claude` events carry. */
  byClaudeRun: Map<number, WorkerRun>;
}

/** One event's effect on the fold (it updates the fold in place: the fold is this module's own). */
type FoldStep = (f: Fold, e: EventRecord, p: Record<string, unknown>) => void;

const lastRun = (f: Fold): WorkerRun | undefined => f.h.runs[f.h.runs.length - 1];

function newRun(f: Fold, launchedAt: string): WorkerRun {
  return {
    number: f.h.runs.length + 1,
    cause: f.cause,
    launchedAt,
    startedAt: null,
    pid: null,
    endedAt: null,
    state: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    runMs: null,
    reason: null,
    then: null,
    claude: f.pendingClaude,
  };
}

const onQueued: FoldStep = (f, e, p) => {
  const { h } = f;
  if (p.spec && typeof p.spec === "object") h.spec = { ...(h.spec ?? {}), ...(p.spec as Record<string, unknown>) };
  h.envCount = num(p.envKeys) ?? h.envCount;
  h.queuedAt ??= e.ts;
  const by = str(p.by);
  if (f.open) {
    // Queued again while starting: the daemon restarted mid-launch and launches it again.
    f.open.then = "relaunched";
    f.open = null;
    f.cause = "relaunch";
  } else if (h.runs.length > 0) {
    f.cause = by === "rerun" ? "rerun" : "user restart";
    if (by === "user restart") {
      h.restarts++;
      h.userRestarts++;
    }
    const prev = lastRun(f)!;
    if (prev.then === null) prev.then = by === "rerun" ? "rerun" : "restarted by user";
  }
};

const onStarting: FoldStep = (f, e) => {
  const run = newRun(f, e.ts);
  if (f.pendingClaude) f.byClaudeRun.set(f.pendingClaude.run, run);
  f.pendingClaude = null;
  f.open = run;
  f.h.runs.push(run);
};

const onStarted: FoldStep = (f, e, p) => {
  if (!f.open) return;
  f.open.startedAt = iso(num(p.startedAtMs), e.ts);
  f.open.pid = num(p.pid);
};

const onExited: FoldStep = (f, e, p) => {
  const run = f.open;
  if (!run) return;
  run.endedAt = iso(num(p.endedAtMs), e.ts);
  run.state = str(p.state);
  run.exitCode = num(p.code);
  run.signal = str(p.signal);
  run.timedOut = p.timedOut === true || run.timedOut;
  run.runMs = run.startedAt === null ? null : num(p.runMs);
  run.reason = str(p.reason) ?? run.reason;
  f.open = null;
};

const onBackoff: FoldStep = (f, _e, p) => {
  f.h.restarts++;
  f.cause = "restart policy";
  const r = lastRun(f);
  if (r) r.then = `backoff ${formatDelay(num(p.delayMs) ?? 0)}`;
};

/** A `worker.claude` goes to the run it names, else the open run, else waits for the next launch. */
const onClaude: FoldStep = (f, _e, p) => {
  const run = num(p.run) ?? 1;
  const known = f.byClaudeRun.get(run);
  if (known) known.claude = claudeOf(p, known.claude);
  else if (f.open && f.open.claude === null) {
    f.open.claude = claudeOf(p, null);
    f.byClaudeRun.set(run, f.open);
  } else f.pendingClaude = claudeOf(p, f.pendingClaude?.run === run ? f.pendingClaude : null);
};

/** One step per event type; other types leave the history as it is. */
const STEPS: Record<string, FoldStep> = {
  "worker.queued": onQueued,
  "worker.starting": onStarting,
  "worker.started": onStarted,
  "worker.stopping": (f, _e, p) => {
    if (f.open && str(p.reason)) f.open.reason = str(p.reason);
  },
  "worker.timeout": (f) => {
    if (f.open) f.open.timedOut = true;
  },
  "worker.exited": onExited,
  "worker.backoff": onBackoff,
  "worker.fatal": (f, _e, p) => {
    const r = lastRun(f);
    if (r) r.then = `fatal: ${str(p.reason) ?? "too many restarts"}`;
  },
  "worker.cancelled": (f, _e, p) => {
    const r = lastRun(f);
    if (r) r.then = `${r.then ? `${r.then}, then ` : ""}cancelled: ${str(p.reason) ?? "stopped"}`;
  },
  "worker.removed": (f) => {
    f.h.removed = true;
  },
  "worker.claude": onClaude,
};

/** Folds the events of one worker (in seq order; others are ignored) into its history. */
export function workerHistory(events: Iterable<EventRecord>, workerId: string): WorkerHistory {
  const f: Fold = {
    h: { spec: null, envCount: null, queuedAt: null, runs: [], restarts: 0, userRestarts: 0, removed: false },
    cause: "spawn",
    open: null,
    pendingClaude: null,
    byClaudeRun: new Map(),
  };
  for (const e of events) {
    if (e.worker !== workerId) continue;
    // Own properties only: an event type such as "constructor" must not find a step.
    const step = Object.hasOwn(STEPS, e.type) ? STEPS[e.type] : undefined;
    step?.(f, e, e.payload);
  }
  return f.h;
}
