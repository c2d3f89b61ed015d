// Follows the stream-json output of Claude workers while they run and records what matters —
// session id, turns, cost, error flag, the final result — as `worker.claude` events, which status
// and digests read back (and replay restores). Each run of a worker (a restart, a `--resume`) is
// numbered and read from where its output begins in stdout.log, so its cost and result are its
// own (claude-runs.ts); a run over its cost limit is reported as soon as its cost shows. A run's
// refusals are its stream's and those its worker's `PermissionDenied` hook events report, each
// call counted once (refusals.ts).
import { statSync } from "node:fs";
import type { EventLog } from "../../src/eventlog/append.js";
import { needsAttention, type RefusedAction } from "../../src/protocol/claude-permissions.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import type { RunClaude } from "../../src/workers/runs.js";
import { overLimitReason } from "./budget.js";
import { ClaudeRuns } from "./claude-runs.js";
import { FileFollower } from "./file-follower.js";
import { hookDenialOf, RunRefusals, type HookDenial } from "./refusals.js";
import { emptyProgress, StreamParser, type ClaudeProgress } from "./stream-parser.js";

/** A Claude worker's progress as status shows it. (A type, not an interface, so it fits Record<string, unknown>.) */
export type ClaudeInfo = RunClaude & {
  result: string | null;
  done: boolean;
  /** What all the worker's runs cost together (the fields above are the current run's). */
  totalCostUsd: number | null;
  /** The mode Claude Code ran in, as its stream says. */
  permissionMode: string | null;
  /** Actions Claude Code refused in this run (the first 20), how many in all, and the file edits it attempted and had refused. */
  refused: RefusedAction[];
  refusedCount: number;
  edits: number;
  editsRefused: number;
  /** It tried to edit and every edit was refused. */
  needsAttention: boolean;
};

/** What the tracker needs of the event log: appending, and (the daemon's log) hearing each durable batch. */
export type TrackerLog = Pick<EventLog, "append"> & { subscribe?: EventLog["subscribe"] };

/** A run being read: its stream's parser, its refusals by both witnesses, and its cost limit. */
interface FollowedRun {
  follower: FileFollower;
  parser: StreamParser;
  refusals: RunRefusals;
  run: number;
  logOffset: number;
  limitUsd: number | null;
  /** The run went over its limit and that was reported (once). */
  overReported: boolean;
}

/** The payload recorded for a worker's Claude progress. Result capped for the record's sake. */
function toPayload(p: ClaudeProgress): Record<string, unknown> {
  return {
    sessionId: p.sessionId,
    model: p.model,
    turns: p.turns,
    costUsd: p.costUsd,
    isError: p.isError,
    subtype: p.subtype,
    durationMs: p.durationMs,
    result: p.result === null ? null : p.result.slice(0, 2_000),
    done: p.done,
    permissionMode: p.permissionMode,
    ...p.refusals,
  };
}

/** The refusal fields of a recorded `worker.claude` payload (absent from older records: none). */
function refusalsOf(p: Partial<ClaudeInfo>): Pick<ClaudeInfo, "permissionMode" | "refused" | "refusedCount" | "edits" | "editsRefused" | "needsAttention"> {
  const facts = { refused: Array.isArray(p.refused) ? p.refused : [], refusedCount: p.refusedCount ?? 0, edits: p.edits ?? 0, editsRefused: p.editsRefused ?? 0 };
  return { permissionMode: p.permissionMode ?? null, ...facts, needsAttention: needsAttention(facts) };
}

export class ClaudeTracker {
  private readonly info = new Map<string, ClaudeInfo>();
  private readonly followers = new Map<string, FollowedRun>();
  private readonly runs = new ClaudeRuns();
  /**
   * Per worker, its current run's `PermissionDenied` hook denials by tool_use_id (replayed too): a
   * run followed again is told them. Dropped when a new run begins or the worker is removed.
   */
  private readonly hookDenials = new Map<string, { run: number; denials: Map<string, HookDenial> }>();
  /**
   * Per worker, how many refusals its latest `worker.claude` says the stream of its run (`info.run`)
   * had reported: a run read again takes those as recorded, the first REFUSED_KEPT named and the
   * rest not, rather than recording them again.
   */
  private readonly streamRecorded = new Map<string, number>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly log: TrackerLog,
    private readonly onError: (err: unknown) => void,
    /** A running worker's run went over its cost limit (`reason` says by how much): stop it. */
    private readonly onOverLimit: (workerId: string, reason: string) => void = () => {},
  ) {}

  /** Replay (and live): the latest `worker.claude` payload per worker, and its workers' hook denials. */
  observe(e: EventRecord): void {
    if (e.type === "hook.PermissionDenied" && e.worker) this.noteHookDenial(e.worker, e.payload);
    if (e.type === "worker.removed" && e.worker) this.forget(e.worker);
    if (e.type !== "worker.claude" || !e.worker) return;
    const p = e.payload as Partial<ClaudeInfo> & { streamRefusedCount?: unknown };
    this.runs.observe(e.worker, e.payload, Date.parse(e.ts));
    const run = typeof p.run === "number" ? p.run : 1;
    const heard = this.hookDenials.get(e.worker);
    if (heard && heard.run < run) this.hookDenials.delete(e.worker);
    if (typeof p.streamRefusedCount === "number" && p.streamRefusedCount > 0) this.streamRecorded.set(e.worker, p.streamRefusedCount);
    else this.streamRecorded.delete(e.worker);
    this.info.set(e.worker, {
      sessionId: p.sessionId ?? null,
      model: p.model ?? null,
      turns: p.turns ?? null,
      costUsd: p.costUsd ?? null,
      isError: p.isError ?? null,
      subtype: p.subtype ?? null,
      result: p.result ?? null,
      done: p.done ?? false,
      run,
      totalCostUsd: null,
      ...refusalsOf(p),
    });
  }

  /** A removed worker's hook denials and stream count go (its progress and costs stay: status and the daily budget). */
  private forget(workerId: string): void {
    this.hookDenials.delete(workerId);
    this.streamRecorded.delete(workerId);
  }

  get(workerId: string): ClaudeInfo | undefined {
    const info = this.info.get(workerId);
    return info && { ...info, totalCostUsd: this.runs.totalUsd(workerId) };
  }

  /** What all Claude runs reported since `sinceMs` cost, USD. */
  spentSince(sinceMs: number): number {
    return this.runs.spentSince(sinceMs);
  }

  /**
   * Before a worker's run is launched: records the run's number and where its output will begin
   * (the end of stdout.log now), so the run is read from there, after a daemon restart too.
   */
  async beginRun(workerId: string, stdoutFile: string): Promise<void> {
    let logOffset = 0;
    try {
      logOffset = statSync(stdoutFile).size;
    } catch {
      // no output yet
    }
    const payload = { ...toPayload(emptyProgress()), run: this.runs.nextRun(workerId), logOffset };
    const [rec] = await this.log.append([{ type: "worker.claude", worker: workerId, payload }]);
    if (rec) this.observe(rec);
  }

  /**
   * Starts following a Claude worker's current run (as `beginRun` recorded it; an adopted worker's
   * too) in its stdout, from where that run's output begins. `limitUsd`: its cost limit, if any.
   */
  track(workerId: string, stdoutFile: string, logDir: string, limitUsd: number | null = null): void {
    this.untrack(workerId);
    this.listen();
    const { run, logOffset } = this.runs.current(workerId) ?? { run: 1, logOffset: 0 };
    const parser = new StreamParser();
    // A run read again (by a daemon since restarted, say): what the record counts, and the hook
    // denials heard, stay counted and are not news; the stream's own come back as it is re-read.
    const refusals = new RunRefusals();
    const info = this.info.get(workerId);
    if (info?.run === run) refusals.recorded(info.refused, this.streamRecorded.get(workerId) ?? 0);
    const heard = this.hookDenials.get(workerId);
    if (heard?.run === run) for (const d of heard.denials.values()) refusals.noteHook(d);
    const follower = new FileFollower(stdoutFile, (text) => this.read(workerId, text), logOffset);
    this.followers.set(workerId, { follower, parser, refusals, run, logOffset, limitUsd, overReported: false });
    follower.start(logDir);
  }

  /**
   * Hears the workers' `hook.PermissionDenied` events, and their removals, as they are recorded.
   * Only a log that can be heard (the daemon's) gives them; the tracker never hears its own records this way.
   */
  private listen(): void {
    if (this.unsubscribe !== null || !this.log.subscribe) return;
    this.unsubscribe = this.log.subscribe((records) => {
      for (const e of records) if (e.type === "hook.PermissionDenied" || e.type === "worker.removed") this.observe(e);
    });
  }

  /**
   * A worker's `PermissionDenied` hook event, for its current run: remembered, and, while the run
   * is followed, recorded as a refusal unless its stream has already reported that call.
   */
  private noteHookDenial(workerId: string, payload: Record<string, unknown>): void {
    const d = hookDenialOf(payload);
    const run = this.runs.current(workerId)?.run;
    if (d === null || run === undefined) return;
    let heard = this.hookDenials.get(workerId);
    if (heard?.run !== run) this.hookDenials.set(workerId, (heard = { run, denials: new Map() }));
    if (heard.denials.has(d.toolUseId)) return;
    heard.denials.set(d.toolUseId, d);
    const f = this.followers.get(workerId);
    const action = f?.run === run ? f.refusals.noteHook(d) : null;
    if (action) this.record(workerId, f!, [action]);
  }

  /** New output of a run: recorded when it changed the progress; a run over its limit reported. */
  private read(workerId: string, text: string): void {
    const f = this.followers.get(workerId);
    if (!f || !f.parser.push(text)) return;
    this.record(workerId, f, f.refusals.noteStream(f.parser.takeRefused()));
    const over = overLimitReason(f.parser.progress, f.limitUsd);
    if (over !== null && !f.overReported) {
      f.overReported = true;
      this.onOverLimit(workerId, over);
    }
  }

  /** Records a run's progress, its refusals by both witnesses, after the refused actions it learnt of now. */
  private record(workerId: string, f: FollowedRun, refused: RefusedAction[]): void {
    const payload = { ...toPayload(f.parser.progress), ...f.refusals.tally(f.parser.progress.refusals), streamRefusedCount: f.refusals.streamCount, run: f.run, logOffset: f.logOffset };
    // Each refused action is an event of its own (the hook service releases the claim it took).
    const denied: EventInput[] = refused.map((r) => ({ type: "permission.denied", worker: workerId, payload: r }));
    this.log.append([...denied, { type: "worker.claude", worker: workerId, payload }]).then(
      (recs) => recs.forEach((rec) => this.observe(rec)),
      this.onError,
    );
  }

  /** Whether a worker's run is being followed. */
  follows(workerId: string): boolean {
    return this.followers.has(workerId);
  }

  /**
   * As a worker's run ends: reads what is left of its output, and says why the run was over its
   * cost limit, or null.
   */
  overLimit(workerId: string): string | null {
    const f = this.followers.get(workerId);
    if (!f) return null;
    f.follower.drain();
    return overLimitReason(f.parser.progress, f.limitUsd);
  }

  /** Reads what is left and stops following (the worker ended). */
  untrack(workerId: string): void {
    const f = this.followers.get(workerId);
    if (!f) return;
    f.follower.drain();
    f.follower.close();
    this.followers.delete(workerId);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const id of [...this.followers.keys()]) {
      this.followers.get(id)!.follower.close();
      this.followers.delete(id);
    }
  }
}
