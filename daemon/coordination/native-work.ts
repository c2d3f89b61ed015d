// Claude Code's own parallel work, as its hooks report it: each session's subagents (`Agent`
// calls, SubagentStart … SubagentStop) and agent-team teammates (TeammateIdle, TaskCreated,
// TaskCompleted). A fold of `hook.*` events, rebuilt by replay like the claims and pure apart
// from the times passed in. `status` shows it beside cpwd's workers; digests never mention it.
import type { EventRecord } from "../../src/protocol/events.js";
import { AGENT_TOOLS } from "../../src/protocol/hooks.js";
import type { NativeSubagentView, NativeTeammateView, NativeWorkView } from "../../src/protocol/native-work.js";

/** A session silent this long has its running subagents ended (it died without SessionEnd). */
export const NATIVE_SILENT_MS = 24 * 3_600_000;
/** An `Agent` call not followed by its SubagentStart within this long is forgotten. */
const CALL_TTL_MS = 10 * 60_000;
/** Most `Agent` calls a session keeps waiting for their SubagentStart. */
const MAX_CALLS = 32;
/**
 * How long a session has been silent when it is gone for good: NATIVE_SILENT_MS, then as long
 * again as anything of it stays in view (ended work, a waiting call). The snapshot then drops all
 * it keeps for the session (native-retention.ts) and a running daemon forgets it the same way (the
 * hook service), so a daemon that ran for months and one restarted from a snapshot agree.
 */
export function sessionGoneMs(keepEndedMs: number): number {
  return NATIVE_SILENT_MS + Math.max(keepEndedMs, CALL_TTL_MS);
}
/** Replay prunes once every this many events, so a long history stays small in memory. */
const PRUNE_EVERY = 1024;

/** An `Agent` call seen in PreToolUse: what its subagent's SubagentStart lacks (the description). */
export interface AgentCall {
  toolUseId: string | null;
  subagentType: string | null;
  description: string | null;
  background: boolean | null;
  atMs: number;
}

interface Subagent {
  agentId: string;
  agentType: string | null;
  description: string | null;
  background: boolean | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  endReason: string | null;
}

interface Teammate {
  name: string;
  team: string | null;
  state: "working" | "idle" | "ended";
  sinceMs: number;
  tasksCreated: number;
  tasksCompleted: number;
  lastTask: string | null;
}

/** One Claude Code session's native work. */
interface SessionWork {
  session: string;
  worker: string | undefined;
  lastSeenMs: number;
  endedAtMs: number | null;
  calls: AgentCall[];
  subagents: Map<string, Subagent>;
  /** By `team/name`. */
  teammates: Map<string, Teammate>;
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class NativeWork {
  private readonly sessions = new Map<string, SessionWork>();
  private applied = 0;

  /** @param keepEndedMs how long what ended stays in the view (config `digestRecentMs`). */
  constructor(private readonly keepEndedMs: number) {}

  /** Feeds every durable event (live and in replay); only `hook.*` events of a session count. */
  apply(e: EventRecord): void {
    if (!e.type.startsWith("hook.") || !e.session) return;
    const at = Date.parse(e.ts) || 0;
    const s = this.sessionOf(e.session, at);
    s.lastSeenMs = Math.max(s.lastSeenMs, at);
    if (e.worker) s.worker = e.worker;
    const p = e.payload;
    switch (e.type.slice("hook.".length)) {
      case "SessionStart":
        s.endedAtMs = null;
        break;
      case "PreToolUse":
        if (typeof p.tool === "string" && AGENT_TOOLS.has(p.tool)) this.noteCall(s, p, at);
        break;
      case "PostToolUseFailure":
      case "PermissionDenied":
        // The call did not start a subagent: its description must not go to the next one.
        if (typeof p.toolUseId === "string") s.calls = s.calls.filter((c) => c.toolUseId !== p.toolUseId);
        break;
      case "SubagentStart":
        this.start(s, p, at);
        break;
      case "SubagentStop":
        this.stop(s, p, at);
        break;
      case "SessionEnd":
        this.endSession(s, at, "session ended");
        break;
      case "TeammateIdle":
        this.teammate(s, p, at, "idle");
        break;
      case "TaskCreated":
      case "TaskCompleted": {
        const t = this.teammate(s, p, at, "working");
        if (t) {
          if (e.type === "hook.TaskCreated") t.tasksCreated++;
          else t.tasksCompleted++;
          t.lastTask = str(p.taskSubject) ?? t.lastTask;
        }
        break;
      }
    }
    if (++this.applied % PRUNE_EVERY === 0) this.prune(at);
  }

  /**
   * The `Agent` call a SubagentStart of `agentType` in `session` answers, taken off the waiting
   * list (so two subagents starting at once never share one): the call with that subagent type
   * seen first, else the oldest. Claude Code's SubagentStart names no call, so this is a match by
   * order; the hook service records what it took on the event, and replay takes the same one.
   */
  takeCall(session: string, agentType: string | null): AgentCall | undefined {
    const s = this.sessions.get(session);
    if (!s || s.calls.length === 0) return undefined;
    const i = Math.max(0, s.calls.findIndex((c) => c.subagentType === agentType));
    return s.calls.splice(i, 1)[0];
  }

  /** What `status` shows: running work, and what ended within the recent window. */
  view(nowMs: number): NativeWorkView {
    this.prune(nowMs);
    const subagents: NativeSubagentView[] = [];
    const teammates: NativeTeammateView[] = [];
    for (const s of this.sessions.values()) {
      const who = { session: s.session, ...(s.worker ? { worker: s.worker } : {}) };
      for (const a of s.subagents.values()) {
        subagents.push({
          ...who,
          agentId: a.agentId,
          agentType: a.agentType,
          description: a.description,
          background: a.background,
          state: a.endedAtMs === null ? "running" : "ended",
          endReason: a.endReason,
          startedAt: iso(a.startedAtMs),
          endedAt: iso(a.endedAtMs),
          lastSeenAt: iso(s.lastSeenMs)!,
        });
      }
      for (const t of s.teammates.values()) {
        const { sinceMs, ...rest } = t;
        teammates.push({ ...who, ...rest, since: iso(sinceMs)! });
      }
    }
    const order = (a: { startedAt?: string | null; since?: string }) => a.startedAt ?? a.since ?? "";
    subagents.sort((a, b) => order(a).localeCompare(order(b)));
    teammates.sort((a, b) => a.session.localeCompare(b.session) || a.name.localeCompare(b.name));
    return { subagents, teammates };
  }

  /** Forgets what ended before the window, and ends the work of sessions silent for a day. */
  prune(nowMs: number): void {
    const before = nowMs - this.keepEndedMs;
    for (const [id, s] of this.sessions) {
      if (s.endedAtMs === null && nowMs - s.lastSeenMs > NATIVE_SILENT_MS) this.endSession(s, s.lastSeenMs, "session went silent");
      s.calls = s.calls.filter((c) => nowMs - c.atMs <= CALL_TTL_MS);
      for (const [key, a] of s.subagents) if (a.endedAtMs !== null && a.endedAtMs < before) s.subagents.delete(key);
      if (s.endedAtMs !== null && s.endedAtMs < before) s.teammates.clear();
      if (s.subagents.size === 0 && s.teammates.size === 0 && s.calls.length === 0 && (s.endedAtMs !== null || s.lastSeenMs < before)) this.sessions.delete(id);
    }
  }

  private sessionOf(session: string, at: number): SessionWork {
    let s = this.sessions.get(session);
    if (!s) {
      s = { session, worker: undefined, lastSeenMs: at, endedAtMs: null, calls: [], subagents: new Map(), teammates: new Map() };
      this.sessions.set(session, s);
    }
    return s;
  }

  private noteCall(s: SessionWork, p: Record<string, unknown>, at: number): void {
    const toolUseId = str(p.toolUseId);
    if (toolUseId && s.calls.some((c) => c.toolUseId === toolUseId)) return;
    s.calls.push({
      toolUseId,
      subagentType: str(p.subagentType),
      description: str(p.description),
      background: typeof p.background === "boolean" ? p.background : null,
      atMs: at,
    });
    if (s.calls.length > MAX_CALLS) s.calls.shift();
  }

  private start(s: SessionWork, p: Record<string, unknown>, at: number): void {
    const agentId = str(p.agentId);
    if (!agentId) return;
    const agentType = str(p.agentType);
    // The hook service took the call when it recorded this event (its toolUseId is on it, "" for
    // a call without one); a record from the fallback log carries none, and takes the call here,
    // by the same rule.
    const call = typeof p.toolUseId === "string" ? this.takeById(s, p.toolUseId) : this.takeCall(s.session, agentType);
    s.subagents.set(agentId, {
      agentId,
      agentType,
      description: str(p.description) ?? call?.description ?? null,
      background: typeof p.background === "boolean" ? p.background : (call?.background ?? null),
      startedAtMs: at,
      endedAtMs: null,
      endReason: null,
    });
  }

  private takeById(s: SessionWork, toolUseId: string): AgentCall | undefined {
    const i = s.calls.findIndex((c) => c.toolUseId === toolUseId);
    return i < 0 ? undefined : s.calls.splice(i, 1)[0];
  }

  private stop(s: SessionWork, p: Record<string, unknown>, at: number): void {
    const agentId = str(p.agentId);
    if (!agentId) return;
    let a = s.subagents.get(agentId);
    if (!a) {
      // Its start was not recorded (hooks installed meanwhile, say): it ended, that much is known.
      a = { agentId, agentType: str(p.agentType), description: null, background: null, startedAtMs: null, endedAtMs: null, endReason: null };
      s.subagents.set(agentId, a);
    }
    if (a.endedAtMs === null) {
      a.endedAtMs = at;
      a.endReason = "finished";
    }
  }

  private endSession(s: SessionWork, at: number, reason: string): void {
    s.endedAtMs = at;
    s.calls = [];
    for (const a of s.subagents.values()) {
      if (a.endedAtMs === null) {
        a.endedAtMs = at;
        a.endReason = reason;
      }
    }
    for (const t of s.teammates.values()) {
      if (t.state !== "ended") {
        t.state = "ended";
        t.sinceMs = at;
      }
    }
  }

  /** The teammate an event names (by team and name), moved to `state`; none when it names none. */
  private teammate(s: SessionWork, p: Record<string, unknown>, at: number, state: "working" | "idle"): Teammate | undefined {
    const name = str(p.teammate);
    if (!name) return undefined;
    const team = str(p.team);
    const key = `${team ?? ""}/${name}`;
    let t = s.teammates.get(key);
    if (!t) {
      t = { name, team, state, sinceMs: at, tasksCreated: 0, tasksCompleted: 0, lastTask: null };
      s.teammates.set(key, t);
    } else if (t.state !== state) {
      t.state = state;
      t.sinceMs = at;
    }
    return t;
  }
}
