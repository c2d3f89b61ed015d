// One worker's history as runs, for `cpwd status W3`: a pure fold over that worker's events. A run
// is one launch (`worker.starting`) to its end (`worker.exited`), with why it was launched, how it
// ended and what followed (a backoff, fatal, a user's restart); a Claude worker's runs carry what
// `worker.claude` recorded of each (session, cost, turns).
import type { EventRecord } from "../protocol/events.js";

/** A run's Claude facts, as the last `worker.claude` of it recorded them. */
export interface RunClaude {
  run: number;
  sessionId: string | null;
  model: string | null;
  turns: number | null;
  costUsd: number | null;
  isError: boolean | null;
  subtype: string | null;
}

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
  /** Policy restarts (backoffs) over the whole history. */
  restarts: number;
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

/** Folds the events of one worker (in seq order; others are ignored) into its history. */
export function workerHistory(events: Iterable<EventRecord>, workerId: string): WorkerHistory {
  const h: WorkerHistory = { spec: null, envCount: null, queuedAt: null, runs: [], restarts: 0, removed: false };
  let cause = "spawn";
  let open: WorkerRun | null = null;
  /** Claude facts recorded before the launch they belong to. */
  let pendingClaude: RunClaude | null = null;
  const byClaudeRun = new Map<number, WorkerRun>();
  const last = () => h.runs[h.runs.length - 1];
  for (const e of events) {
    if (e.worker !== workerId) continue;
    const p = e.payload;
    switch (e.type) {
      case "worker.queued": {
        if (p.spec && typeof p.spec === "object") h.spec = { ...(h.spec ?? {}), ...(p.spec as Record<string, unknown>) };
        h.envCount = num(p.envKeys) ?? h.envCount;
        h.queuedAt ??= e.ts;
        const by = str(p.by);
        if (open) {
          // Queued again while starting: the daemon restarted mid-launch and launches it again.
          open.then = "relaunched";
          open = null;
          cause = "relaunch";
        } else if (h.runs.length > 0) {
          cause = by === "rerun" ? "rerun" : "user restart";
          const prev = last()!;
          if (prev.then === null) prev.then = by === "rerun" ? "rerun" : "restarted by user";
        }
        break;
      }
      case "worker.starting": {
        open = {
          number: h.runs.length + 1,
          cause,
          launchedAt: e.ts,
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
          claude: pendingClaude,
        };
        if (pendingClaude) byClaudeRun.set(pendingClaude.run, open);
        pendingClaude = null;
        h.runs.push(open);
        break;
      }
      case "worker.started":
        if (open) {
          open.startedAt = iso(num(p.startedAtMs), e.ts);
          open.pid = num(p.pid);
        }
        break;
      case "worker.stopping":
        if (open && str(p.reason)) open.reason = str(p.reason);
        break;
      case "worker.timeout":
        if (open) open.timedOut = true;
        break;
      case "worker.exited":
        if (open) {
          open.endedAt = iso(num(p.endedAtMs), e.ts);
          open.state = str(p.state);
          open.exitCode = num(p.code);
          open.signal = str(p.signal);
          open.timedOut = p.timedOut === true || open.timedOut;
          open.runMs = open.startedAt === null ? null : num(p.runMs);
          open.reason = str(p.reason) ?? open.reason;
          open = null;
        }
        break;
      case "worker.backoff": {
        h.restarts++;
        cause = "restart policy";
        const r = last();
        if (r) r.then = `backoff ${formatDelay(num(p.delayMs) ?? 0)}`;
        break;
      }
      case "worker.fatal": {
        const r = last();
        if (r) r.then = `fatal: ${str(p.reason) ?? "too many restarts"}`;
        break;
      }
      case "worker.cancelled": {
        const r = last();
        if (r) r.then = `${r.then ? `${r.then}, then ` : ""}cancelled: ${str(p.reason) ?? "stopped"}`;
        break;
      }
      case "worker.removed":
        h.removed = true;
        break;
      case "worker.claude": {
        const run = num(p.run) ?? 1;
        const known = byClaudeRun.get(run);
        if (known) known.claude = claudeOf(p, known.claude);
        else if (open && open.claude === null) {
          open.claude = claudeOf(p, null);
          byClaudeRun.set(run, open);
        } else pendingClaude = claudeOf(p, pendingClaude?.run === run ? pendingClaude : null);
        break;
      }
    }
  }
  return h;
}
