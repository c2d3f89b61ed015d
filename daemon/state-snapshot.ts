// What a snapshot of the daemon holds, kept up to date event by event: the fold start-up would
// otherwise redo from the first event. The supervisor's workers are folded into one record
// (`snapshot.workers`, src/workers/replay.ts); the areas whose folds live in their own classes
// (claims, digests, Claude Code's native work, Claude progress) get back, instead of their whole
// history, only the events their folds still depend on — replayed through the same `observe`
// paths, they rebuild the same state:
//   claims       the `claim.acquired` of each file still held;
//   digests      per session its first hook call (where its cursor starts), its latest
//                `digest.delivered`, its latest hook call naming a worker; per listed worker its
//                latest `worker.*` event (what a cursor is compared with);
//   native work  per session its latest SessionStart and every SessionEnd, its `Agent` calls still
//                waiting for their subagent, each subagent's start and stop until it has been
//                over for longer than the view keeps ended work, its teammates' events; all of
//                it until the session has ended (or gone silent) for longer than that;
//   Claude       per worker its latest `worker.claude`, per run the latest one, the latest with a
//                cost and the latest with a log offset; a removed worker's costs for two days
//                (today's spend against the daily budget).
// Plus the ids of fallback records already ingested, so none is ingested twice. All of it is
// bounded by what is live (workers listed, files held, sessions active), not by history.
// test/unit/state-snapshot.test.ts checks that the areas rebuild the same state from a snapshot as
// from the whole history; test/integration/event-rotation.test.ts, that a restarted daemon answers
// as before.
import type { Envelope } from "../src/eventlog/envelope.js";
import type { SnapshotContent } from "../src/eventlog/snapshot-file.js";
import type { EventRecord } from "../src/protocol/events.js";
import { AGENT_TOOLS } from "../src/protocol/hooks.js";
import { isTransition } from "../src/workers/machine.js";
import { applyWorkerEvent, emptyWorkersState, replayKeeps, workersStateRecord, WORKERS_STATE_TYPE, type RemovedWorkers } from "../src/workers/replay.js";
import { NATIVE_SILENT_MS } from "./coordination/native-work.js";

/** How long an `Agent` call waits for its subagent in the native fold (its CALL_TTL_MS), at least. */
const CALL_WAIT_MS = 10 * 60_000;
/** Most `Agent` calls a session keeps waiting (native-work.ts's MAX_CALLS). */
const MAX_CALLS = 32;
/** How long a removed worker's Claude costs are kept: today's spend needs at most a day. */
const REMOVED_COSTS_KEPT_MS = 48 * 3_600_000;

/** Type prefixes whose events some area replays; other lines need not be parsed at start. */
const REPLAYED_PREFIXES = ["worker.", "hook.", "claim.", "digest."];

/** A session's native work as far as keeping its events goes. */
interface SessionMarks {
  lastSeenMs: number;
  endedAtMs: number | null;
  /** Keys of its retained native events. */
  keys: Set<string>;
  /** Its waiting `Agent` calls, oldest first: the key of each and its tool call id. */
  calls: Array<{ key: string; toolUseId: string | null; atMs: number }>;
  /** Subagents by id: the keys of the call it took, its start and stop kept, and when it stopped. */
  agents: Map<string, { call?: string | undefined; start?: string; stop?: string; stoppedMs?: number }>;
  /** A subagent started with no tool call id (from the fallback log) takes a call by order. */
  lastUntaggedStartMs: number;
}

export class StateSnapshot {
  private readonly workers = emptyWorkersState();
  private readonly fallbackIds = new Set<string>();
  /** Retained events by what they stand for (`claim:/path`, `cursor:<session>`…). */
  private readonly retained = new Map<string, EventRecord>();
  /** Keys retained for each worker, dropped when it is removed. */
  private readonly byWorker = new Map<string, Set<string>>();
  private readonly sessions = new Map<string, SessionMarks>();
  private latestMs = 0;
  private lastSeqValue = 0;

  /** @param keepEndedMs how long native work that ended stays in view (config `digestRecentMs`). */
  constructor(private readonly keepEndedMs: number) {}

  /** Whether start-up must parse a line of this type and source (the others it only counts). */
  static wants(type: string, source: string): boolean {
    return source === "fallback" || type === WORKERS_STATE_TYPE || REPLAYED_PREFIXES.some((p) => type.startsWith(p));
  }

  /**
   * Which lines start-up parses: those some area replays, less the transitions of the workers the
   * record removes (`removed`, found by a first light pass), which fold to nothing; passing over
   * such a worker's removal still lets go of what was kept for it.
   */
  startupKeeps(removed: RemovedWorkers): (e: Envelope) => boolean {
    const transitionKept = replayKeeps(this.workers, removed);
    return (e) => {
      if (!isTransition(e.type) || !removed.covers(e.workerNumber, e.seq)) return StateSnapshot.wants(e.type, e.source);
      if (transitionKept(e)) return true;
      if (e.type === "worker.removed") this.forget(`W${e.workerNumber}`);
      return false;
    };
  }

  /** Drops what was kept for a removed worker (its Claude costs stay: the daily budget counts them). */
  private forget(worker: string): void {
    for (const key of this.byWorker.get(worker) ?? []) this.retained.delete(key);
    this.byWorker.delete(worker);
  }

  /** The record was read to `lastSeq` (lines not parsed included), its last event at `lastTs`. */
  caughtUp(lastSeq: number, lastTs: string | null): void {
    this.lastSeqValue = Math.max(this.lastSeqValue, lastSeq);
    if (lastTs) this.latestMs = Math.max(this.latestMs, Date.parse(lastTs) || 0);
  }

  /** Takes a snapshot's facts beside its records (read after them). */
  takeMeta(meta: Record<string, unknown>): void {
    if (Array.isArray(meta.fallbackIds)) for (const id of meta.fallbackIds) if (typeof id === "string") this.fallbackIds.add(id);
  }

  /** The fallback ids already in the record: the set the intake adds to. */
  get seenFallback(): Set<string> {
    return this.fallbackIds;
  }

  /** Folds one durable event (or a snapshot's record) in. */
  apply(e: EventRecord): void {
    applyWorkerEvent(this.workers, e);
    if (e.type === WORKERS_STATE_TYPE) return;
    this.lastSeqValue = Math.max(this.lastSeqValue, e.seq);
    this.latestMs = Math.max(this.latestMs, Date.parse(e.ts) || 0);
    if (e.source === "fallback" && typeof e.payload.fallbackId === "string") this.fallbackIds.add(e.payload.fallbackId);
    if (e.type.startsWith("claim.")) this.applyClaim(e);
    else if (e.type.startsWith("hook.") && e.session) this.applyHook(e, e.session);
    else if (e.type === "digest.delivered" && e.session && typeof e.payload.uptoSeq === "number") this.retained.set(`cursor:${e.session}`, e);
    if (e.type.startsWith("worker.") && e.worker) this.applyWorker(e, e.worker);
  }

  private applyClaim(e: EventRecord): void {
    const path = e.payload.path;
    if (typeof path !== "string") return;
    const key = `claim:${path}`;
    if (e.type === "claim.acquired" && e.worker) this.retained.set(key, e);
    else if (e.type === "claim.released") {
      const held = this.retained.get(key);
      if (held && (!e.worker || held.worker === e.worker)) this.retained.delete(key);
    }
  }

  private applyHook(e: EventRecord, session: string): void {
    if (!this.retained.has(`first:${session}`)) this.retained.set(`first:${session}`, e);
    this.retained.set(`last:${session}`, e);
    if (e.worker) this.retained.set(`bound:${session}`, e);
    const at = Date.parse(e.ts) || 0;
    let s = this.sessions.get(session);
    if (!s) this.sessions.set(session, (s = { lastSeenMs: at, endedAtMs: null, keys: new Set(), calls: [], agents: new Map(), lastUntaggedStartMs: 0 }));
    s.lastSeenMs = Math.max(s.lastSeenMs, at);
    const hook = e.type.slice("hook.".length);
    const p = e.payload;
    const toolUseId = typeof p.toolUseId === "string" ? p.toolUseId : null;
    switch (hook) {
      case "SessionStart":
        s.endedAtMs = null;
        return this.keepNative(s, `native-start:${session}`, e);
      case "SessionEnd":
        // Each end is kept (it ends what ran then, at its time); the session's waiting calls end
        // with it, and its running subagents stop then.
        s.endedAtMs = at;
        for (const c of s.calls.splice(0)) this.dropNative(s, c.key);
        for (const a of s.agents.values()) a.stoppedMs ??= at;
        return this.keepNative(s, `native-end:${e.seq}`, e);
      case "PreToolUse":
        if (!(typeof p.tool === "string" && AGENT_TOOLS.has(p.tool)) || (toolUseId && s.calls.some((c) => c.toolUseId === toolUseId))) return;
        s.calls.push({ key: `native-call:${e.seq}`, toolUseId, atMs: at });
        this.keepNative(s, `native-call:${e.seq}`, e);
        if (s.calls.length > MAX_CALLS) this.dropNative(s, s.calls.shift()!.key);
        return;
      case "PostToolUseFailure":
      case "PermissionDenied":
        // It takes its call off the waiting list, and is itself no longer needed.
        if (toolUseId) {
          const call = this.takeCall(s, toolUseId);
          if (call) this.dropNative(s, call);
        }
        return;
      case "SubagentStart":
      case "SubagentStop":
        return this.applyAgent(s, e, hook === "SubagentStart", toolUseId, at);
      case "TeammateIdle":
      case "TaskCreated":
      case "TaskCompleted":
        return this.keepNative(s, `native:${e.seq}`, e);
    }
  }

  /** A subagent's start (which takes its call) or stop: the start and first stop after it are kept. */
  private applyAgent(s: SessionMarks, e: EventRecord, start: boolean, toolUseId: string | null, at: number): void {
    const id = typeof e.payload.agentId === "string" && e.payload.agentId !== "" ? e.payload.agentId : null;
    if (!id) return;
    const a = s.agents.get(id) ?? {};
    s.agents.set(id, a);
    if (start) {
      for (const key of [a.call, a.start, a.stop]) if (key) this.dropNative(s, key);
      // The call it takes stays with it: the start may take its description from it.
      a.call = toolUseId !== null ? this.takeCall(s, toolUseId) : undefined;
      if (toolUseId === null) s.lastUntaggedStartMs = at;
      a.start = `native-agent:${e.seq}`;
      a.stop = undefined;
      a.stoppedMs = undefined;
      this.keepNative(s, a.start, e);
    } else if (!a.stop) {
      a.stop = `native-agent:${e.seq}`;
      a.stoppedMs = at;
      this.keepNative(s, a.stop, e);
    }
  }

  /** Takes a call off the waiting list by its id (a subagent started from it, or it failed): its key. */
  private takeCall(s: SessionMarks, toolUseId: string): string | undefined {
    const i = s.calls.findIndex((c) => c.toolUseId === toolUseId);
    return i >= 0 ? s.calls.splice(i, 1)[0]!.key : undefined;
  }

  private keepNative(s: SessionMarks, key: string, e: EventRecord): void {
    this.retained.set(key, e);
    s.keys.add(key);
  }

  private dropNative(s: SessionMarks, key: string): void {
    this.retained.delete(key);
    s.keys.delete(key);
  }

  private applyWorker(e: EventRecord, worker: string): void {
    if (e.type === "worker.removed") return this.forget(worker);
    this.keepFor(worker, `changed:${worker}`, e);
    if (e.type !== "worker.claude") return;
    const run = typeof e.payload.run === "number" ? e.payload.run : 1;
    this.keepFor(worker, `claude:${worker}`, e);
    this.keepFor(worker, `run:${worker}#${run}`, e);
    if (typeof e.payload.logOffset === "number") this.keepFor(worker, `offset:${worker}#${run}`, e);
    // Kept past the worker's removal (not noted under it): the daily budget counts it.
    if (typeof e.payload.costUsd === "number") this.retained.set(`cost:${worker}#${run}`, e);
  }

  private keepFor(worker: string, key: string, e: EventRecord): void {
    this.retained.set(key, e);
    let keys = this.byWorker.get(worker);
    if (!keys) this.byWorker.set(worker, (keys = new Set()));
    keys.add(key);
  }

  /** Forgets what no fold needs any more: sessions long ended, old costs of removed workers. */
  private prune(): void {
    const keep = Math.max(this.keepEndedMs, CALL_WAIT_MS);
    for (const s of this.sessions.values()) {
      const ended = s.endedAtMs !== null ? this.latestMs - s.endedAtMs > keep : this.latestMs - s.lastSeenMs > NATIVE_SILENT_MS + keep;
      if (ended) {
        for (const key of s.keys) this.retained.delete(key);
        s.keys.clear();
        s.calls = [];
        s.agents.clear();
        continue;
      }
      // Subagents over for longer than the view keeps them, and calls past their wait (unless a
      // subagent started since may have taken one by order).
      for (const [id, a] of s.agents) {
        if (a.stoppedMs === undefined || this.latestMs - a.stoppedMs <= keep) continue;
        for (const key of [a.call, a.start, a.stop]) if (key) this.dropNative(s, key);
        s.agents.delete(id);
      }
      s.calls = s.calls.filter((c) => {
        const stale = this.latestMs - c.atMs > CALL_WAIT_MS && s.lastUntaggedStartMs < c.atMs;
        if (stale) this.dropNative(s, c.key);
        return !stale;
      });
    }
    for (const [key, e] of this.retained) {
      if (key.startsWith("cost:") && !this.workers.workers.has(e.worker!) && this.latestMs - (Date.parse(e.ts) || 0) > REMOVED_COSTS_KEPT_MS) this.retained.delete(key);
    }
  }

  /** What start-up replays: the workers' record, then the retained events in seq order. */
  records(): EventRecord[] {
    this.prune();
    const events = [...new Set(this.retained.values())].sort((a, b) => a.seq - b.seq);
    const state = workersStateRecord({ ...this.workers, lastSeq: this.lastSeqValue }, new Date(this.latestMs).toISOString());
    return [state, ...events];
  }

  /** The snapshot as of the last event applied; `eventCount`: how many events the record holds. */
  content(eventCount: number): SnapshotContent {
    const lastTs = new Date(this.latestMs).toISOString();
    return { seq: this.lastSeqValue, meta: { eventCount, lastTs, fallbackIds: [...this.fallbackIds] }, records: this.records() };
  }
}
