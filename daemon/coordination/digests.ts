// Status injection: what each Claude Code session has not yet heard about the workers. Each
// session has a cursor (a seq); a digest lists workers whose state changed to an ended one after
// the cursor, and delivering it moves the cursor (recorded as `digest.delivered`, so cursors
// survive a daemon restart). Pure apart from the clock value passed in.
import { describeRefusals, type RefusalFacts } from "../../src/protocol/claude-permissions.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { plural } from "../../src/protocol/plural.js";

/** What a digest needs to know of a worker, from the supervisor's current view. */
export interface WorkerSummary {
  id: string;
  name?: string | undefined;
  state: string;
  pid?: number | null | undefined;
  exitCode?: number | null | undefined;
  signal?: string | null | undefined;
  startedAtMs?: number | null | undefined;
  endedAtMs?: number | null | undefined;
  restarts?: number | undefined;
  /** Why it ended so, when that needs saying (it could not start, it was lost, killed, stopped while waiting). */
  reason?: string | null | undefined;
  claude?: ({ costUsd?: number | null; turns?: number | null; isError?: boolean | null; result?: string | null } & RefusalFacts) | null | undefined;
  /** For a `--worktree` worker: how many files it changed since it started (null: not counted yet). */
  worktreeChanges?: number | null | undefined;
}

/** States worth telling a session about. */
export const ENDED = new Set(["exited", "failed", "timed_out", "stopped", "fatal", "backoff"]);
const RUNNING = new Set(["starting", "running", "stopping"]);
export const DIGEST_MAX_CHARS = 2_000;

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function label(w: WorkerSummary): string {
  return w.name ? `${w.id} "${w.name}"` : w.id;
}

/** What a `--worktree` worker changed, and the command that shows it ("" for other workers). */
function worktreeNote(w: WorkerSummary): string {
  const n = w.worktreeChanges;
  if (n === undefined) return "";
  if (n === 0) return ", no files changed in its worktree";
  const what = n === null ? "changes in its worktree" : `${plural(n, "file")} changed in its worktree`;
  return `, ${what}: see \`cpwd diff ${w.id}\``;
}

/** What Claude Code refused in the run: `, but 2 actions were refused (Write np.txt, Bash npm test)` ("" when nothing). */
function refusalNote(w: WorkerSummary): string {
  const r = w.claude ? describeRefusals(w.claude) : null;
  return r === null ? "" : r.attention ? `, but it needs attention: ${r.text}` : `, but ${r.text}`;
}

/** How a failed run ended: its signal or exit code, else (it never started, it was lost) its reason. */
function failure(w: WorkerSummary): string {
  return w.signal ?? (w.exitCode != null ? `exit ${w.exitCode}` : (w.reason ?? "no exit status"));
}

/** How a stopped worker ended: "was stopped", or its reason ("killed …", "stopped during its restart backoff …"). */
function stopped(w: WorkerSummary): string {
  if (!w.reason) return "was stopped";
  return /^(stopped|killed)\b/.test(w.reason) ? w.reason : `was stopped (${w.reason})`;
}

/** How a worker ended, after its label. */
function howEnded(w: WorkerSummary): string {
  switch (w.state) {
    case "exited":
      return "exited 0";
    case "failed":
      return `failed (${failure(w)})`;
    case "timed_out":
      return "timed out";
    case "stopped":
      return stopped(w);
    case "fatal":
      return `crash-looped: given up after ${plural(w.restarts ?? 0, "restart")}`;
    default:
      return `failed and is restarting (${failure(w)})`;
  }
}

/** One line about a worker that ended. */
export function describeEnded(w: WorkerSummary): string {
  const how = howEnded(w);
  const ran = w.startedAtMs && w.endedAtMs ? (w.state === "fatal" ? ` (last run ${duration(w.endedAtMs - w.startedAtMs)})` : ` after ${duration(w.endedAtMs - w.startedAtMs)}`) : "";
  const c = w.claude;
  const cost = c && (c.costUsd != null || c.turns != null) ? ` (${[c.costUsd != null ? `$${c.costUsd.toFixed(4)}` : "", c.turns != null ? plural(c.turns, "turn") : ""].filter(Boolean).join(", ")})` : "";
  const result = c?.result ? `: ${c.result.split("\n").filter((l) => l.trim() !== "").slice(0, 3).join(" / ").slice(0, 300)}` : "";
  return `- ${label(w)} ${how}${ran}${cost}${worktreeNote(w)}${refusalNote(w)}${result}`;
}

const FOOTER = "Run `cpwd status` for every worker and `cpwd logs <id>` for output.";

/**
 * Head, as many whole lines as fit in DIGEST_MAX_CHARS, and the footer. Lines that do not fit are
 * counted in an "…and N more" line rather than cut off mid-way: the cursor moves past them, so
 * the session must at least learn that they exist and where to look.
 */
export function fitDigest(head: string, lines: string[]): string {
  const out = [head];
  let used = head.length + 1 + FOOTER.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const rest = lines.length - i - 1;
    // Keep room for the "more" line whenever lines remain after this one.
    const reserve = rest > 0 ? 60 : 0;
    if (used + line.length + 1 + reserve > DIGEST_MAX_CHARS) {
      out.push(`- …and ${lines.length - i} more, not shown here: see \`cpwd status\``);
      break;
    }
    out.push(line);
    used += line.length + 1;
  }
  out.push(FOOTER);
  return out.join("\n");
}

export class DigestBook {
  private readonly cursors = new Map<string, number>();
  /** session → the worker it belongs to (a worker is not told about itself). */
  private readonly sessionWorker = new Map<string, string>();
  /** worker → seq of its latest worker.* event. */
  private readonly lastChange = new Map<string, number>();
  /** session → the time (ISO, as recorded) of its latest event: when it may be forgotten. */
  private readonly lastSeen = new Map<string, string>();

  constructor(private readonly recentMs: number) {}

  /** Feeds every durable event (live and in replay). */
  observe(e: EventRecord): void {
    // Only events the book keeps something for (an `ext.*` event from any client may name any
    // session, and would otherwise be remembered for a day).
    if (e.session && (e.type.startsWith("hook.") || e.type === "digest.delivered")) this.lastSeen.set(e.session, e.ts);
    if (e.type === "worker.removed" && e.worker) this.lastChange.delete(e.worker);
    else if (e.type.startsWith("worker.") && e.worker) this.lastChange.set(e.worker, e.seq);
    else if (e.type === "digest.delivered" && e.session && typeof e.payload.uptoSeq === "number") this.cursors.set(e.session, e.payload.uptoSeq);
    if (e.type.startsWith("hook.") && e.session) {
      if (e.worker) this.sessionWorker.set(e.session, e.worker);
      // A session's first call starts its cursor (live, digest() does it before this); in replay
      // that call is how a daemon restarted later knows the session listens from there, so
      // workers that ended while the daemon was down are news to it, not lost.
      if (!this.cursors.has(e.session)) this.cursors.set(e.session, e.seq - 1);
    }
  }

  /** Remembers that a session is a worker's own (from a hook call carrying CPWD_WORKER_ID). */
  bindSession(session: string, worker: string): void {
    this.sessionWorker.set(session, worker);
  }

  knows(session: string): boolean {
    return this.cursors.has(session);
  }

  /**
   * Forgets the sessions with no event since `beforeMs` and returns them: the rule a snapshot
   * applies (sessionGoneMs), so a daemon that runs for months holds what one restarted from a
   * snapshot would. A forgotten session that comes back is new, as after such a restart.
   */
  forgetSilentSince(beforeMs: number): string[] {
    const before = new Date(beforeMs).toISOString();
    const gone: string[] = [];
    for (const [session, ts] of this.lastSeen) {
      if (ts >= before) continue;
      this.lastSeen.delete(session);
      this.cursors.delete(session);
      this.sessionWorker.delete(session);
      gone.push(session);
    }
    return gone;
  }

  /**
   * The digest for a session at `lastSeq`, or null when there is no news. `overview` (SessionStart)
   * lists running workers and those that ended within `recentMs`; otherwise only what changed to
   * an ended state after the session's cursor. A session never seen before starts at `lastSeq`.
   */
  digest(session: string, workers: WorkerSummary[], lastSeq: number, nowMs: number, overview: boolean): { text: string; event: EventInput } | null {
    const own = this.sessionWorker.get(session);
    const others = workers.filter((w) => w.id !== own);
    const cursor = this.cursors.get(session);
    let lines: string[];
    let head: string;
    if (overview || cursor === undefined) {
      if (!overview) {
        // First contact after a daemon restart, say: start listening from now, no flood.
        this.cursors.set(session, lastSeq);
        return null;
      }
      const running = others.filter((w) => RUNNING.has(w.state) || w.state === "queued");
      const recent = others.filter((w) => ENDED.has(w.state) && w.endedAtMs != null && nowMs - w.endedAtMs <= this.recentMs);
      lines = [
        ...running.map((w) => `- ${label(w)} ${w.state}${w.startedAtMs ? ` for ${duration(nowMs - w.startedAtMs)}` : ""}${w.pid ? ` (pid ${w.pid})` : ""}`),
        ...recent.map(describeEnded),
      ];
      head = `cpwd: ${plural(running.length, "worker")} running or queued, ${recent.length} ended recently:`;
    } else {
      const news = others.filter((w) => ENDED.has(w.state) && (this.lastChange.get(w.id) ?? 0) > cursor);
      lines = news.map(describeEnded);
      head = `cpwd: ${plural(news.length, "worker")} finished since you last heard:`;
    }
    this.cursors.set(session, lastSeq);
    if (lines.length === 0) return null;
    const text = fitDigest(head, lines);
    return { text, event: { type: "digest.delivered", session, payload: { uptoSeq: lastSeq, workers: lines.length, overview } } };
  }
}
