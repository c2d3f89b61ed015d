// What `status` says of Claude Code's own parallel work, beside cpwd's workers: each session's
// subagents and agent-team teammates (from its hook events, field `native`) and Claude Code's
// background sessions (`claude agents --json`, read by the CLI, field `backgroundSessions`).
// Types only, no zod: `cpwd status` imports this on its fast path.

/** A subagent a session started with the `Agent` tool (SubagentStart … SubagentStop). */
export interface NativeSubagentView {
  /** The Claude Code session that started it. */
  session: string;
  /** The cpwd worker that session belongs to, when it is one. */
  worker?: string;
  agentId: string;
  /** `general-purpose`, `Explore`, a custom agent's name… */
  agentType: string | null;
  /** The `Agent` call's short description, when the daemon saw the call. */
  description: string | null;
  /** Started with `run_in_background`; null when the call was not seen. */
  background: boolean | null;
  state: "running" | "ended";
  /** Why it ended: `finished` (SubagentStop), `session ended`, `session went silent`. */
  endReason: string | null;
  /** Null when its start was not recorded (its SubagentStop was). */
  startedAt: string | null;
  endedAt: string | null;
  /** The session's last hook call: a running subagent's session that has gone quiet may be gone. */
  lastSeenAt: string;
}

/** An agent-team teammate a session heard of (TeammateIdle, TaskCreated, TaskCompleted). */
export interface NativeTeammateView {
  session: string;
  worker?: string;
  name: string;
  team: string | null;
  /** `idle` after TeammateIdle until a task event names it again; `ended` with its session. */
  state: "working" | "idle" | "ended";
  /** When it entered that state. */
  since: string;
  tasksCreated: number;
  tasksCompleted: number;
  /** The subject of the last task it created or completed. */
  lastTask: string | null;
}

/** `status.native`: running ones, and those that ended within the recent window (`digestRecentMs`). */
export interface NativeWorkView {
  subagents: NativeSubagentView[];
  teammates: NativeTeammateView[];
}

/** One entry of `claude agents --json`, the fields cpwd reads (others are dropped). */
export interface BackgroundSession {
  /** The short id `claude attach|logs|stop` take (background sessions only). */
  id: string | null;
  sessionId: string | null;
  /** `background` (`claude --bg`) or `interactive` (a terminal or `-p` session). */
  kind: string | null;
  name: string | null;
  cwd: string | null;
  /** `working`, `blocked`… (background), or `busy`, `idle` (interactive). */
  state: string | null;
  startedAt: string | null;
  pid: number | null;
}

/** `status --json`'s `backgroundSessions`: the sessions, or null and why they could not be read. */
export interface BackgroundSessionsView {
  sessions: BackgroundSession[] | null;
  note?: string;
}
