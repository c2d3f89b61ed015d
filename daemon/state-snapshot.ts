// What a snapshot of the daemon holds, kept up to date event by event: the fold start-up would
// otherwise redo from the first event. The supervisor's workers are folded into one record
// (`snapshot.workers`, src/workers/replay.ts); the areas whose folds live in their own classes
// (claims, digests, Claude Code's native work, Claude progress) get back, instead of their whole
// history, only the events their folds still depend on — replayed through the same `observe`
// paths, they rebuild the same state:
//   claims       the `claim.acquired` of each file still held;
//   digests      per session its first hook call (where its cursor starts), its latest
//                `digest.delivered`, its latest hook call naming a worker (and its latest hook
//                call, for transcript recovery), until the session is gone (below); per listed
//                worker its latest `worker.*` event (what a cursor is compared with);
//   native work  per session what native-retention.ts says: its subagents, calls and teammates
//                still in view, until the session has been over for longer than the view keeps;
//   Claude       per worker its latest `worker.claude`, per run the latest one, the latest with a
//                cost and the latest with a log offset; a removed worker's costs for two days
//                (today's spend against the daily budget).
// Plus the ids of fallback records already ingested, so none is ingested twice: those read since
// the last drain of the fallback log. A `fallback.ingested` event with `drained` says that every
// fallback file read before it is deleted, so none of those ids can come again and the set is
// emptied there (daemon/fallback-intake.ts explains why that is exact). All of it is bounded by
// what is live (workers listed, files held, sessions active within a day or so, the fallback log
// since its last drain), not by history.
//
// A session with no event for NATIVE_SILENT_MS (a day, when the native view takes a silent
// session as over) and the view's keep again is gone: all it had here is dropped, and a daemon
// started from this snapshot does not know it. Should it come back, it is treated as new, as any
// session a daemon first hears of: its first call starts its cursor at the record's end and brings
// no digest (a SessionStart brings the overview, as it always does), transcript recovery passes it
// over. That is on purpose: what ended before it went silent is no longer recent by the overview's
// own measure (`digestRecentMs`), and a cursor replayed from whatever is left of it would be
// older than the one it had, and send old news as new. A daemon that ran throughout forgets such a
// session by the same measure (sessionGoneMs, the hook service's sweep), so the two agree.
// test/unit/state-snapshot.test.ts checks that the areas rebuild the same state from a snapshot as
// from the whole history; test/integration/event-rotation.test.ts, that a restarted daemon answers
// as before.
import type { Envelope } from "../src/eventlog/envelope.js";
import type { SnapshotContent } from "../src/eventlog/snapshot-file.js";
import type { EventRecord } from "../src/protocol/events.js";
import { isTransition } from "../src/workers/machine.js";
import { applyWorkerEvent, emptyWorkersState, replayKeeps, workersStateRecord, WORKERS_STATE_TYPE, type RemovedWorkers } from "../src/workers/replay.js";
import { NativeRetention } from "./native-retention.js";

/**
 * The version of this fold: what a snapshot's records mean. Bump it whenever what is retained, or
 * how an area replays it, changes: a daemon then passes over older snapshots (as if torn) and
 * folds the segments instead of taking records made by another fold. Keeping less of the same
 * needs none (forgetting gone sessions did not): an older snapshot's records replay as they did,
 * and the next snapshot forgets what this fold would not have kept.
 */
export const STATE_FOLD_VERSION = 1;

/** How long a removed worker's Claude costs are kept: today's spend needs at most a day. */
const REMOVED_COSTS_KEPT_MS = 48 * 3_600_000;

/** What is kept per session besides its native work (`first:<session>`…), dropped when it is gone. */
const SESSION_KEYS = ["first", "last", "bound", "cursor"];

/** The intake's report; with `drained`, the point past which no earlier fallback id can come again. */
const FALLBACK_INGESTED_TYPE = "fallback.ingested";

/** Type prefixes whose events some area replays; other lines need not be parsed at start. */
const REPLAYED_PREFIXES = ["worker.", "hook.", "claim.", "digest."];

export class StateSnapshot {
  private readonly workers = emptyWorkersState();
  private readonly fallbackIds = new Set<string>();
  /** The seq of the last drain of the fallback files folded in (0: none). */
  private fallbackDrainSeq = 0;
  /** Retained events by what they stand for (`claim:/path`, `cursor:<session>`…). */
  private readonly retained = new Map<string, EventRecord>();
  /** Keys retained for each worker, dropped when it is removed. */
  private readonly byWorker = new Map<string, Set<string>>();
  private readonly native: NativeRetention;
  private latestMs = 0;
  private lastSeqValue = 0;
  /**
   * `ts` as ms, for the last `ts` seen: a commit's events share one, and Date.parse on every event
   * was 3 % of the daemon's CPU at 16 appends in flight a connection (issue 11, events/s).
   */
  private tsText = "";
  private tsMs = 0;

  /** @param keepEndedMs how long native work that ended stays in view (config `digestRecentMs`). */
  constructor(keepEndedMs: number) {
    this.native = new NativeRetention(this.retained, keepEndedMs);
  }

  /** Whether start-up must parse a line of this type and source (the others it only counts). */
  static wants(type: string, source: string): boolean {
    return source === "fallback" || type === WORKERS_STATE_TYPE || type === FALLBACK_INGESTED_TYPE || REPLAYED_PREFIXES.some((p) => type.startsWith(p));
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
    // A drain folded after the snapshot (its events are folded before this is called) deleted the
    // files the snapshot's ids were read from.
    if (this.fallbackDrainSeq > 0) return;
    if (Array.isArray(meta.fallbackIds)) for (const id of meta.fallbackIds) if (typeof id === "string") this.fallbackIds.add(id);
  }

  /**
   * A copy of the fallback ids already in the record, for the intake. Its own: the intake adds an
   * id before its event is durable (and takes it out if the append fails), and a snapshot taken
   * meanwhile must hold only ids of durable events, or a crash before the retry loses the record.
   */
  seenFallbackCopy(): Set<string> {
    return new Set(this.fallbackIds);
  }

  /** `ts` as ms (0 when it does not parse). */
  private msOf(ts: string): number {
    if (ts !== this.tsText) {
      this.tsText = ts;
      this.tsMs = Date.parse(ts) || 0;
    }
    return this.tsMs;
  }

  /** Folds one durable event (or a snapshot's record) in. */
  apply(e: EventRecord): void {
    applyWorkerEvent(this.workers, e);
    if (e.type === WORKERS_STATE_TYPE) return;
    this.lastSeqValue = Math.max(this.lastSeqValue, e.seq);
    this.latestMs = Math.max(this.latestMs, this.msOf(e.ts));
    if (e.source === "fallback" && typeof e.payload.fallbackId === "string") this.fallbackIds.add(e.payload.fallbackId);
    // The fallback files read so far are deleted: their ids cannot come again.
    if (e.type === FALLBACK_INGESTED_TYPE && typeof e.payload.drained === "number") {
      this.fallbackIds.clear();
      this.fallbackDrainSeq = e.seq;
    }
    if (e.type.startsWith("claim.")) this.applyClaim(e);
    else if (e.type.startsWith("hook.") && e.session) this.applyHook(e, e.session);
    else if (e.type === "digest.delivered" && e.session && typeof e.payload.uptoSeq === "number") {
      this.retained.set(`cursor:${e.session}`, e);
      this.native.note(e.session, this.msOf(e.ts));
    }
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
    this.native.apply(e, session);
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

  /** Forgets what no fold needs any more: sessions long ended or gone, old costs of removed workers. */
  private prune(): void {
    // Gone sessions go whole, their native events with them (prune drops those first): a hook
    // event left behind would start the cursor of a session whose cursor was dropped.
    for (const session of this.native.prune(this.latestMs)) for (const kind of SESSION_KEYS) this.retained.delete(`${kind}:${session}`);
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
    return { seq: this.lastSeqValue, fold: STATE_FOLD_VERSION, meta: { eventCount, lastTs, fallbackIds: [...this.fallbackIds] }, records: this.records() };
  }
}
