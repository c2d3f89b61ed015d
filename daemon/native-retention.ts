// Which of a session's hook events a snapshot keeps for the native-work fold
// (daemon/coordination/native-work.ts), so that fold rebuilds the same subagents and teammates
// from them as from the whole history: the latest SessionStart and every SessionEnd, the `Agent`
// calls still waiting for their subagent (a call a subagent took stays with that subagent; one
// refused or failed goes), each subagent's start and stop until it has been over for longer than
// the view keeps ended work, the teammates' events; all of it until the session has ended (or
// gone silent) for longer than that. It also says when a session is gone for good (silent for
// sessionGoneMs: NATIVE_SILENT_MS and that long again), so the snapshot drops the rest it keeps for it and this
// forgets it. Part of daemon/state-snapshot.ts, which holds the events.
import type { EventRecord } from "../src/protocol/events.js";
import { AGENT_TOOLS } from "../src/protocol/hooks.js";
import { sessionGoneMs } from "./coordination/native-work.js";

/** How long an `Agent` call waits for its subagent in the native fold (its CALL_TTL_MS), at least. */
const CALL_WAIT_MS = 10 * 60_000;
/** Most `Agent` calls a session keeps waiting (native-work.ts's MAX_CALLS). */
const MAX_CALLS = 32;

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

/** The native-work events kept, in the snapshot's map of retained events. */
export class NativeRetention {
  private readonly sessions = new Map<string, SessionMarks>();

  /** @param keepEndedMs how long native work that ended stays in view (config `digestRecentMs`). */
  constructor(
    private readonly retained: Map<string, EventRecord>,
    private readonly keepEndedMs: number,
  ) {}

  /** Notes an event of `session` at `atMs` that is not a hook call (a digest): it is not gone yet. */
  note(session: string, atMs: number): void {
    this.marksOf(session, atMs);
  }

  private marksOf(session: string, atMs: number): SessionMarks {
    let s = this.sessions.get(session);
    if (!s) this.sessions.set(session, (s = { lastSeenMs: atMs, endedAtMs: null, keys: new Set(), calls: [], agents: new Map(), lastUntaggedStartMs: 0 }));
    s.lastSeenMs = Math.max(s.lastSeenMs, atMs);
    return s;
  }

  /** Takes one `hook.*` event of `session`. */
  apply(e: EventRecord, session: string): void {
    const at = Date.parse(e.ts) || 0;
    const s = this.marksOf(session, at);
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

  /**
   * Forgets what the fold no longer needs as of `latestMs`: sessions long over, subagents long
   * ended, calls past their wait. Returns the sessions gone for good, now forgotten here: the
   * caller drops what else it keeps for them.
   */
  prune(latestMs: number): string[] {
    const keep = Math.max(this.keepEndedMs, CALL_WAIT_MS);
    const goneMs = sessionGoneMs(this.keepEndedMs);
    const gone: string[] = [];
    for (const [session, s] of this.sessions) {
      const silentMs = latestMs - s.lastSeenMs;
      const ended = s.endedAtMs !== null ? latestMs - s.endedAtMs > keep : silentMs > goneMs;
      if (ended) {
        for (const key of s.keys) this.retained.delete(key);
        s.keys.clear();
        s.calls = [];
        s.agents.clear();
        // Gone implies ended (its end, if any, is no later than its last event), so nothing of
        // its native work is left when it is forgotten.
        if (silentMs > goneMs) {
          this.sessions.delete(session);
          gone.push(session);
        }
        continue;
      }
      // Subagents over for longer than the view keeps them, and calls past their wait (unless a
      // subagent started since may have taken one by order).
      for (const [id, a] of s.agents) {
        if (a.stoppedMs === undefined || latestMs - a.stoppedMs <= keep) continue;
        for (const key of [a.call, a.start, a.stop]) if (key) this.dropNative(s, key);
        s.agents.delete(id);
      }
      s.calls = s.calls.filter((c) => {
        const stale = latestMs - c.atMs > CALL_WAIT_MS && s.lastUntaggedStartMs < c.atMs;
        if (stale) this.dropNative(s, c.key);
        return !stale;
      });
    }
    return gone;
  }
}
