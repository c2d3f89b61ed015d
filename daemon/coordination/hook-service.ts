// The Claude Code integration inside the daemon: answers `hook.handle` (claims that block,
// digests that inform), records every hook call, releases a worker's claims when it ends, and
// keeps Claude Code's own subagents and teammates for `status` (native-work.ts).
import type { EventLog } from "../../src/eventlog/append.js";
import { editedFile, summarizeHook, type HookInput, type HookReply } from "../../src/protocol/hooks.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { hookMethods } from "../../src/protocol/rpc-hooks.js";
import { claimPath, ClaimTable, listedClaim, type Claim, type ClaimDecision, type Requester } from "./claims.js";
import type { DaemonContext } from "../context.js";
import { DigestBook, ENDED, type WorkerSummary } from "./digests.js";
import { NativeWork, sessionGoneMs } from "./native-work.js";
import type { MethodGroup } from "../rpc-table.js";
import { WorktreeCounts } from "./worktree-counts.js";
import { recordedWorktree } from "../claude/worktree.js";
import { TranscriptRecovery } from "./transcript-recovery.js";

/** Events whose reply may carry a digest as additionalContext. */
const DIGEST_EVENTS = new Set(["SessionStart", "UserPromptSubmit", "PostToolUse"]);
/** Events saying a tool call did not happen: a claim it took is released (releaseUnmade). */
const UNMADE_EVENTS: ReadonlyMap<string, string> = new Map([
  ["PermissionDenied", "the edit was refused"],
  ["PostToolUseFailure", "the edit failed"],
]);
/** Longest a digest waits for a `--worktree` worker's count of changed files (then says "see `cpwd diff`"). */
const COUNT_WAIT_MS = 250;
/** Worker states in which a worker's edits claim files: its process may be running. */
const LIVE = new Set(["starting", "running", "stopping"]);
const WORKER_ID = /^W\d+$/;
/** How often the sessions gone for good are looked for (at the next event after this long). */
const FORGET_EVERY_MS = 10 * 60_000;

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export interface HookServiceDeps {
  ctx: DaemonContext;
  log: EventLog;
  /** The supervisor's current view of its workers (for digests: it builds every worker's view). */
  workers: () => WorkerSummary[];
  /** One worker's record by id, without building any view: what a hook call needs (meta: its worktree). */
  worker: (id: string) => { state: string; name: string | null; meta: Record<string, unknown>; endedAtMs: number | null } | undefined;
}

export class HookService {
  readonly claims: ClaimTable;
  readonly digests: DigestBook;
  /** Claude Code's own work, from its hook events: shown by `status`, never in a digest. */
  readonly native: NativeWork;
  private readonly worktreeCounts = new WorktreeCounts();
  /** Tool calls missed while the daemon was down, read back from a session's transcript. */
  readonly recovery: TranscriptRecovery;
  private readonly unsubscribe: () => void;
  /** When gone sessions were last looked for. */
  private lastForgetMs: number;

  constructor(private readonly deps: HookServiceDeps, history: Iterable<EventRecord>) {
    this.claims = new ClaimTable(deps.ctx.config.claimTtlMs);
    this.digests = new DigestBook(deps.ctx.config.digestRecentMs);
    this.native = new NativeWork(deps.ctx.config.digestRecentMs);
    this.recovery = new TranscriptRecovery({ append: (events) => this.record(events), log: deps.ctx.log });
    for (const e of history) this.observe(e);
    const now = deps.ctx.clock.now();
    this.lastForgetMs = now;
    this.forgetGone(now);
    // While the daemon was down nobody could refresh a claim: each TTL counts from now.
    this.claims.touchAll(now);
    // Claims whose worker ended while the daemon was down (or whose release was lost) go now.
    const holders = new Set(this.claims.list(now).map((c) => c.worker));
    if (holders.size > 0) void this.releaseEnded(holders);
    this.unsubscribe = deps.log.subscribe((records) => {
      for (const e of records) {
        this.digests.observe(e);
        this.native.apply(e);
        this.recovery.observe(e);
      }
      this.releaseRefused(records);
      const nowMs = deps.ctx.clock.now();
      if (nowMs - this.lastForgetMs >= FORGET_EVERY_MS) this.forgetGone(nowMs);
      const touched = new Set(records.filter((e) => e.type.startsWith("worker.") && e.worker).map((e) => e.worker!));
      // The supervisor applies its events right after they are durable, i.e. after this callback.
      if (touched.size > 0) setImmediate(() => {
        void this.releaseEnded(touched);
        this.countWorktrees(touched);
      });
    });
  }

  private observe(e: EventRecord): void {
    this.claims.apply(e, Date.parse(e.ts) || 0);
    this.digests.observe(e);
    this.native.apply(e);
    this.recovery.observe(e);
  }

  /**
   * Forgets the sessions silent for sessionGoneMs (per-session cursors, bindings, recovery marks),
   * so what a daemon that never restarts holds stays bounded by the sessions still about. The
   * native view prunes itself by the same measure.
   */
  private forgetGone(nowMs: number): void {
    this.lastForgetMs = nowMs;
    for (const session of this.digests.forgetSilentSince(nowMs - sessionGoneMs(this.deps.ctx.config.digestRecentMs))) this.recovery.forget(session);
  }

  private async releaseEnded(workers: Set<string>): Promise<void> {
    const events = [...workers].flatMap((id) => {
      const w = this.deps.worker(id);
      return !w || ENDED.has(w.state) ? this.claims.releaseWorker(id, w ? `worker ${w.state}` : "worker removed") : [];
    });
    await this.record(events).catch((err) => this.deps.ctx.log.error({ err }, "releasing claims failed"));
  }

  /** Claims taken by edits a worker's stream says were refused (`permission.denied`) go. */
  private releaseRefused(records: EventRecord[]): void {
    const events = records.flatMap((e) =>
      e.type === "permission.denied" && e.worker && typeof e.payload.toolUseId === "string" ? this.claims.releaseUnmade(e.worker, e.payload.toolUseId, "the edit was refused") : [],
    );
    if (events.length > 0) void this.record(events).catch((err) => this.deps.ctx.log.error({ err }, "releasing claims failed"));
  }

  /** Starts counting what ended `--worktree` workers changed, so their digest need not wait for git. */
  private countWorktrees(workers: Set<string>): void {
    for (const id of workers) {
      const w = this.deps.worker(id);
      const wt = w && ENDED.has(w.state) && w.endedAtMs !== null ? recordedWorktree(w.meta) : undefined;
      if (wt) void this.worktreeCounts.count(id, w!.endedAtMs!, wt);
    }
  }

  /** The supervisor's workers, each ended `--worktree` worker with how many files it changed. */
  private summaries(now: number): Promise<WorkerSummary[]> {
    const worktree = (id: string) => recordedWorktree(this.deps.worker(id)?.meta ?? {});
    return this.worktreeCounts.annotate(this.deps.workers(), worktree, now - this.deps.ctx.config.digestRecentMs, COUNT_WAIT_MS);
  }

  private async record(events: EventInput[]): Promise<EventRecord[]> {
    if (events.length === 0) return [];
    const written = await this.deps.log.append(events);
    const now = this.deps.ctx.clock.now();
    for (const e of written) this.claims.apply(e, now);
    return written;
  }

  private nameOf(worker: string): string {
    const name = this.deps.worker(worker)?.name;
    return name ? `${worker} (${name})` : worker;
  }

  /** Decides a hook call, records it durably, and returns what the shim prints. */
  async handle(input: HookInput, workerId: string | undefined): Promise<HookReply> {
    const t0 = performance.now();
    const now = this.deps.ctx.clock.now();
    const session = typeof input.session_id === "string" ? input.session_id : undefined;
    const event = input.hook_event_name;
    // CPWD_WORKER_ID comes from a process environment: anything not shaped like an id is ignored.
    const worker = workerId !== undefined && WORKER_ID.test(workerId) ? workerId : undefined;
    if (worker && session) this.digests.bindSession(session, worker);
    this.recovery.noteCall(input, worker);
    const events: EventInput[] = [];
    let output: Record<string, unknown> | undefined;
    let decision = "allow";

    const toolUseId = typeof input.tool_use_id === "string" && input.tool_use_id !== "" ? input.tool_use_id : undefined;
    const file = event === "PreToolUse" ? editedFile(input) : undefined;
    if (file) {
      const d = this.decideEdit(claimPath(file, input.cwd), worker, { ...(session ? { session } : {}), ...(toolUseId ? { toolUseId } : {}) }, now);
      events.push(...d.events);
      if (d.kind === "deny") {
        decision = "deny";
        output = { hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: this.denyReason(d.holder, now) } };
      }
    }
    const unmade = UNMADE_EVENTS.get(event);
    if (unmade && worker && toolUseId) events.push(...this.claims.releaseUnmade(worker, toolUseId, unmade));
    if (session && DIGEST_EVENTS.has(event)) {
      // The seq and the workers are read in the same tick (the counts are awaited after): a worker
      // that ends while we wait is news for the next digest, not skipped by this one.
      const lastSeq = this.deps.log.lastSeq;
      const digest = this.digests.digest(session, await this.summaries(now), lastSeq, now, event === "SessionStart");
      if (digest) {
        events.push(digest.event);
        output = { hookSpecificOutput: { hookEventName: event, additionalContext: digest.text } };
        decision = "inform";
      }
    }
    const summary = summarizeHook(input);
    if (event === "SubagentStart" && session) Object.assign(summary, this.agentCallOf(session, summary));
    events.push({
      type: `hook.${event}`,
      source: "hook",
      ...(worker ? { worker } : {}),
      ...(session ? { session } : {}),
      // toolUseId: which tool call this is, so a daemon back from a gap knows what the record covers.
      payload: { ...(toolUseId && typeof input.tool_name === "string" ? { toolUseId } : {}), ...summary, decision, durationMs: Math.round((performance.now() - t0) * 1000) / 1000 },
    });
    await this.record(events);
    return output ? { output } : {};
  }

  /**
   * What a SubagentStart lacks, from the `Agent` call that started it (its description, whether
   * it runs in the background), recorded on the event so the record reads on its own.
   */
  private agentCallOf(session: string, summary: Record<string, unknown>): Record<string, unknown> {
    const call = this.native.takeCall(session, typeof summary.agentType === "string" ? summary.agentType : null);
    if (!call) return {};
    return {
      // Always set once a call is taken ("" when it had no id): replay then takes none again.
      toolUseId: call.toolUseId ?? "",
      ...(call.description ? { description: call.description } : {}),
      ...(call.background !== null ? { background: call.background } : {}),
    };
  }

  /**
   * A PreToolUse edit of `path`. Only a live worker claims files. A stale id (the worker ended,
   * was removed, never existed) edits as a conductor would: denied where a worker holds the file,
   * holding nothing itself.
   */
  private decideEdit(path: string, worker: string | undefined, who: Requester, now: number): ClaimDecision {
    const state = worker ? this.deps.worker(worker)?.state : undefined;
    const claimant = state !== undefined && LIVE.has(state) ? worker : undefined;
    return this.claims.decide(path, { ...(claimant ? { worker: claimant } : {}), ...who }, now);
  }

  private denyReason(holder: Claim, now: number): string {
    return `${this.nameOf(holder.worker)} holds ${holder.path} since ${ago(now - holder.acquiredAtMs)} ago (a cpwd worker is editing it). Wait for it to finish or pick another file; see \`cpwd status\` and \`cpwd claims\`.`;
  }

  methodGroup(): MethodGroup<typeof hookMethods> {
    return {
      specs: hookMethods,
      handlers: {
        "hook.handle": (p) => this.handle(p.event as HookInput, p.workerId),
        "claims.list": () => {
          const now = this.deps.ctx.clock.now();
          return { claims: this.claims.list(now).map((c) => listedClaim(c, this.deps.worker(c.worker)?.name, now)) };
        },
        "claims.release": async (p) => {
          const events = p.worker ? this.claims.releaseWorker(p.worker, "cpwd release") : this.claims.releasePath(claimPath(p.path!, "/"), "cpwd release");
          if (events.length === 0) throw new CpwdError(ErrorCode.NotFound, p.worker ? `${p.worker} holds no files` : `${p.path} is not claimed`);
          const written = await this.record(events);
          return { released: written.map((e) => String(e.payload.path)) };
        },
      },
    };
  }

  /** Claims, and Claude Code's own work, for `cpwd status`. */
  statusExtras(): Record<string, unknown> {
    const now = this.deps.ctx.clock.now();
    return { claims: this.claims.list(now).length, native: this.native.view(now) };
  }

  close(): void {
    this.unsubscribe();
  }
}
