// Hook payloads and replies, as types and small pure helpers with no dependencies: the hook shim
// imports this file. Claude Code adds fields often, so everything beyond what cpwd reads is kept
// as-is and never rejected (see docs/hooks.md).

/** What Claude Code writes on a hook's stdin: the fields cpwd reads, plus anything else. */
export interface HookInput {
  hook_event_name: string;
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  tool_name?: string;
  tool_input?: Record<string, unknown>;
  source?: string;
  reason?: string;
  [extra: string]: unknown;
}

/** Params of `hook.handle`: the hook's JSON and the worker the calling Claude runs as, if any. */
export interface HookHandleParams {
  event: HookInput;
  workerId?: string;
}

/** The daemon's answer: what the shim prints on stdout (Claude Code's JSON form), exit 0. */
export interface HookReply {
  output?: Record<string, unknown>;
}

/** The tools whose PreToolUse claims (and may be denied) a file. */
export const FILE_EDIT_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"]);

/** The file a tool call edits, from its input (`file_path`, or `notebook_path` for notebooks). */
export function editedFile(input: HookInput): string | undefined {
  if (!input.tool_name || !FILE_EDIT_TOOLS.has(input.tool_name)) return undefined;
  const ti = input.tool_input ?? {};
  const p = ti.file_path ?? ti.notebook_path;
  return typeof p === "string" && p !== "" ? p : undefined;
}

/**
 * What an event records about a hook call: small and content-free. Never the tool's full input
 * or output, never file contents or the prompt text (only its length).
 */
export function summarizeHook(input: HookInput): Record<string, unknown> {
  const s: Record<string, unknown> = { hookEvent: input.hook_event_name };
  if (typeof input.cwd === "string") s.cwd = input.cwd;
  if (typeof input.tool_name === "string") s.tool = input.tool_name;
  const file = editedFile(input);
  if (file) s.filePath = file;
  if (typeof input.tool_input?.command === "string") s.commandChars = input.tool_input.command.length;
  if (typeof input.source === "string") s.source = input.source;
  if (typeof input.reason === "string") s.reason = input.reason;
  if (typeof input.prompt === "string") s.promptChars = input.prompt.length;
  if (typeof input.duration_ms === "number") s.toolDurationMs = input.duration_ms;
  return s;
}

/** True when `v` looks like a hook payload (an object naming its event). */
export function isHookInput(v: unknown): v is HookInput {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as HookInput).hook_event_name === "string";
}
