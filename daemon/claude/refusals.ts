// The actions Claude Code refused in a worker's run, read from its stream-json as they happen:
// the `system` `permission_denied` line (a permission mode's refusal), a tool result whose
// `tool_result_meta` says `reject` (a mode's or a PreToolUse hook's), and, at the end, the result
// line's `permission_denials` (every refusal of the run). One entry per tool_use_id, whichever
// says it first. Also counts the file edits the run attempted. A worker's `PermissionDenied` hook
// events are a second witness (RunRefusals): a call only the hook reports is added to the stream's
// tally, one both report is counted once. Pure: fed parsed lines and recorded payloads.
import { isAbsolute, relative } from "node:path";
import { REFUSED_KEPT, type RefusedAction } from "../../src/protocol/claude-permissions.js";
import { FILE_EDIT_TOOLS } from "../../src/protocol/hooks.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** What the record keeps about a run's refusals (fields of `worker.claude`). */
export interface RefusalTally {
  refused: RefusedAction[];
  refusedCount: number;
  edits: number;
  editsRefused: number;
}

export function emptyTally(): RefusalTally {
  return { refused: [], refusedCount: 0, edits: 0, editsRefused: 0 };
}

/** A tool call's key input: a file relative to the session's folder, a command's first line, … */
export function refusedTarget(input: unknown, cwd: string | null): string {
  if (!isObject(input)) return "";
  const path = str(input.file_path) ?? str(input.notebook_path);
  if (path !== null) {
    const rel = cwd === null ? path : relative(cwd, path);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  }
  const text = str(input.command) ?? str(input.url) ?? str(input.pattern) ?? str(input.prompt) ?? "";
  const first = text.split("\n", 1)[0]!;
  return first.length > 120 ? `${first.slice(0, 119)}…` : first;
}

export class RefusalReader {
  private cwd: string | null = null;
  /** Tool calls not yet answered: id → name and input (a refusal line names only the id). */
  private readonly calls = new Map<string, { tool: string; input: unknown }>();
  private readonly seen = new Set<string>();

  /** `tally` is kept up to date as lines are read (the progress's own). */
  constructor(readonly tally: RefusalTally = emptyTally()) {}

  /** Reads one stream line; returns the refusals it reports for the first time. */
  read(msg: Json): RefusedAction[] {
    const message = isObject(msg.message) ? msg.message : {};
    if (msg.type === "system" && msg.subtype === "init") this.cwd = str(msg.cwd);
    if (msg.type === "assistant" && Array.isArray(message.content)) this.noteCalls(message.content);
    const found: RefusedAction[] = [];
    if (msg.type === "system" && msg.subtype === "permission_denied") this.refuse(str(msg.tool_use_id), str(msg.tool_name), str(msg.message), found);
    if (msg.type === "user" && Array.isArray(msg.tool_result_meta)) {
      for (const m of msg.tool_result_meta.filter(isObject)) {
        const decision = isObject(m.permission_decision) ? m.permission_decision : {};
        if (decision.decision === "reject") this.refuse(str(m.id), null, this.resultText(message, str(m.id)), found);
      }
    }
    if (msg.type === "user" && Array.isArray(message.content)) this.forgetAnswered(message.content);
    if (msg.type === "result" && Array.isArray(msg.permission_denials)) {
      for (const d of msg.permission_denials.filter(isObject)) {
        const id = str(d.tool_use_id);
        if (id !== null && !this.calls.has(id)) this.calls.set(id, { tool: str(d.tool_name) ?? "tool", input: d.tool_input });
        this.refuse(id, str(d.tool_name), null, found);
      }
    }
    return found;
  }

  private noteCalls(content: unknown[]): void {
    for (const block of content.filter(isObject)) {
      const id = str(block.id);
      if (block.type !== "tool_use" || id === null) continue;
      const tool = str(block.name) ?? "tool";
      this.calls.set(id, { tool, input: block.input });
      if (FILE_EDIT_TOOLS.has(tool)) this.tally.edits++;
    }
  }

  private forgetAnswered(content: unknown[]): void {
    for (const block of content.filter(isObject)) if (block.type === "tool_result" && typeof block.tool_use_id === "string") this.calls.delete(block.tool_use_id);
  }

  /** The text of the tool result answering `id` in a user message (a hook's reason, say). */
  private resultText(message: Json, id: string | null): string | null {
    const content = Array.isArray(message.content) ? message.content.filter(isObject) : [];
    const block = content.find((b) => b.type === "tool_result" && b.tool_use_id === id);
    return block ? str(block.content) : null;
  }

  private refuse(id: string | null, tool: string | null, reason: string | null, found: RefusedAction[]): void {
    if (id === null || this.seen.has(id)) return;
    this.seen.add(id);
    const call = this.calls.get(id);
    const name = tool ?? call?.tool ?? "tool";
    const action: RefusedAction = { tool: name, target: refusedTarget(call?.input, this.cwd), toolUseId: id, ...(reason ? { reason: reason.slice(0, 300) } : {}) };
    this.tally.refusedCount++;
    if (FILE_EDIT_TOOLS.has(name)) this.tally.editsRefused++;
    if (this.tally.refused.length < REFUSED_KEPT) this.tally.refused.push(action);
    found.push(action);
  }
}

/** What a worker's recorded `hook.PermissionDenied` says of the tool call Claude Code refused. */
export interface HookDenial {
  toolUseId: string;
  tool: string;
  /** The file the call would have edited, as Claude Code gave it; null for other tools. */
  filePath: string | null;
  /** The session's folder (a target inside it is named relative to it). */
  cwd: string | null;
  reason: string | null;
}

/** The denial a `hook.PermissionDenied` payload (as the hook service records it) names, or null when it names no tool call. */
export function hookDenialOf(payload: Record<string, unknown>): HookDenial | null {
  const toolUseId = str(payload.toolUseId);
  if (toolUseId === null) return null;
  return { toolUseId, tool: str(payload.tool) ?? "tool", filePath: str(payload.filePath), cwd: str(payload.cwd), reason: str(payload.reason) };
}

/**
 * One run's refusals as both witnesses report them: its stream (a RefusalReader's tally) and its
 * worker's `PermissionDenied` hook events, one per tool_use_id whichever says it first. A call the
 * hook alone reports is added to the stream's tally; once the stream reports it too, it is the
 * stream's (counted there, and not again here).
 */
export class RunRefusals {
  private readonly fromStream = new Set<string>();
  /** Hook denials the stream has not reported (yet), in the order they came. */
  private readonly hookOnly = new Map<string, RefusedAction>();
  /** How many refusals the stream has reported, and how many of its first ones the record already holds (a run read again). */
  private streamNoted = 0;
  private streamRecorded = 0;

  /** The stream's refusals as it reports them; returns those no hook reported first, nor the record holds (each news). */
  noteStream(actions: RefusedAction[]): RefusedAction[] {
    const fresh: RefusedAction[] = [];
    for (const a of actions) {
      this.fromStream.add(a.toolUseId);
      const known = this.streamNoted++ < this.streamRecorded;
      if (!this.hookOnly.delete(a.toolUseId) && !known) fresh.push(a);
    }
    return fresh;
  }

  /**
   * What the record already counts for this run, when the run is read again (a daemon restarted):
   * counted, and not news. Those its stream reports again become the stream's; the rest (a hook's)
   * stay counted here. `streamCount`: how many refusals the stream had reported when the record
   * was made (`streamRefusedCount`). The record names only the first REFUSED_KEPT actions, but a
   * stream re-read from the run's start reports its refusals again in the same order, so its first
   * `streamCount` are those already recorded, named or not.
   */
  recorded(actions: RefusedAction[], streamCount = 0): void {
    for (const a of actions) if (!this.fromStream.has(a.toolUseId)) this.hookOnly.set(a.toolUseId, a);
    this.streamRecorded = Math.max(this.streamRecorded, streamCount);
  }

  /** How many of the stream's first refusals are counted (recorded as `streamRefusedCount`): a record made while the run is re-read keeps what the record held. */
  get streamCount(): number {
    return Math.max(this.streamNoted, this.streamRecorded);
  }

  /** A hook's denial: the refused action when neither witness reported the call before, else null. */
  noteHook(d: HookDenial): RefusedAction | null {
    if (this.fromStream.has(d.toolUseId) || this.hookOnly.has(d.toolUseId)) return null;
    const target = refusedTarget(d.filePath === null ? undefined : { file_path: d.filePath }, d.cwd);
    const action: RefusedAction = { tool: d.tool, target, toolUseId: d.toolUseId, ...(d.reason ? { reason: d.reason.slice(0, 300) } : {}) };
    this.hookOnly.set(d.toolUseId, action);
    return action;
  }

  /** The run's tally: the stream's, with the calls only a hook reported added (a refused edit was an edit attempted). */
  tally(stream: RefusalTally): RefusalTally {
    const extra = [...this.hookOnly.values()];
    const editsRefused = stream.editsRefused + extra.filter((a) => FILE_EDIT_TOOLS.has(a.tool)).length;
    return {
      refused: [...stream.refused, ...extra].slice(0, REFUSED_KEPT),
      refusedCount: stream.refusedCount + extra.length,
      edits: Math.max(stream.edits, editsRefused),
      editsRefused,
    };
  }
}
