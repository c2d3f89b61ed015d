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

/**
 * Bounds of the hook shim's time budget (config `hookBudgetMs`, env `CPWD_HOOK_BUDGET_MS`), one
 * place for the daemon's config check, the shim and the installer's hook timeout.
 */
export const HOOK_BUDGET_MS = { min: 50, max: 30_000, default: 1_000 } as const;

/** The tools whose PreToolUse claims (and may be denied) a file. */
export const FILE_EDIT_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"]);

/** The file a tool call edits, from its input (`file_path`, or `notebook_path` for notebooks). */
export function editedFile(input: HookInput): string | undefined {
  if (!input.tool_name || !FILE_EDIT_TOOLS.has(input.tool_name)) return undefined;
  const ti = input.tool_input ?? {};
  const p = ti.file_path ?? ti.notebook_path;
  return typeof p === "string" && p !== "" ? p : undefined;
}

/** The wire names of Claude Code's subagent tool: `Agent` (2.1.331), `Task` before it. */
export const AGENT_TOOLS = new Set(["Agent", "Task"]);
/** Longest label (an agent's description, a task's subject) kept in the record. */
export const NATIVE_LABEL_CHARS = 200;
/** Claude Code's own work in a hook input: ids, types and names, kept under these keys. */
const NATIVE_FIELDS = [
  ["agent_id", "agentId"],
  ["agent_type", "agentType"],
  ["task_id", "taskId"],
  ["task_subject", "taskSubject"],
  ["teammate_name", "teammate"],
  ["team_name", "team"],
] as const;

function label(v: unknown): string | undefined {
  return typeof v === "string" ? v.slice(0, NATIVE_LABEL_CHARS) : undefined;
}

/**
 * What an event records about a hook call: small and content-free. Never the tool's full input
 * or output, never file contents or the prompt text (only its length). Of Claude Code's own
 * work: agent and task ids, agent types, teammate and team names, a task's subject and an
 * `Agent` call's description (each cut to NATIVE_LABEL_CHARS); never a subagent's prompt, its
 * last message, a task's description or a transcript.
 */
export function summarizeHook(input: HookInput): Record<string, unknown> {
  const s: Record<string, unknown> = { hookEvent: input.hook_event_name };
  if (typeof input.cwd === "string") s.cwd = input.cwd;
  if (typeof input.tool_name === "string") s.tool = input.tool_name;
  const file = editedFile(input);
  if (file) s.filePath = file;
  if (typeof input.tool_input?.command === "string") s.commandChars = charsOf(input, "tool_input.command", input.tool_input.command);
  if (typeof input.source === "string") s.source = input.source;
  if (typeof input.reason === "string") s.reason = input.reason;
  if (typeof input.prompt === "string") s.promptChars = charsOf(input, "prompt", input.prompt);
  if (typeof input.duration_ms === "number") s.toolDurationMs = input.duration_ms;
  for (const [from, to] of NATIVE_FIELDS) {
    const v = label(input[from]);
    if (v !== undefined) s[to] = v;
  }
  if (typeof input.tool_name === "string" && AGENT_TOOLS.has(input.tool_name)) {
    const ti = input.tool_input ?? {};
    if (typeof input.tool_use_id === "string") s.toolUseId = input.tool_use_id;
    const type = label(ti.subagent_type);
    const description = label(ti.description);
    if (type !== undefined) s.subagentType = type;
    if (description !== undefined) s.description = description;
    if (typeof ti.run_in_background === "boolean") s.background = ti.run_in_background;
  }
  return s;
}

/** Longest string the shim forwards as is; longer ones are cut, their length kept in `cpwd_chars`. */
export const SLIM_STRING_CHARS = 4096;
/** The fields that name files: never cut below this many characters. */
const PATH_KEYS: ReadonlySet<string> = new Set(["file_path", "notebook_path", "cwd", "transcript_path"]);
const PATH_CHARS = 64 * 1024;

/**
 * The hook input as the shim forwards it: only what the daemon reads, so a `Write` of a 50 MiB
 * file costs the same round trip as any other call and never meets the daemon's message limit
 * (which would make the shim fail open and lose the block). Top-level scalars stay, strings cut to
 * SLIM_STRING_CHARS; of `tool_input` only its scalar fields (file_path, notebook_path, command…),
 * cut the same way; `tool_response` and other objects are left out. The true length of each string
 * cut is kept in `cpwd_chars`, so the record's sizes (promptChars, commandChars) stay exact.
 */
export function slimHookInput(input: HookInput): HookInput {
  const chars: Record<string, number> = {};
  const scalars = (from: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(from)) {
      if (typeof v === "string") {
        // A cut path would name another file (its prefix): paths go whole, up to a bound no real
        // path nears (padding such as "./" repeated can stretch one past 4,096 characters).
        const max = PATH_KEYS.has(k) ? PATH_CHARS : SLIM_STRING_CHARS;
        if (v.length > max) chars[prefix + k] = v.length;
        out[k] = v.length > max ? v.slice(0, max) : v;
      } else if (typeof v === "number" || typeof v === "boolean" || v === null) out[k] = v;
    }
    return out;
  };
  const slim = scalars(input, "") as HookInput;
  slim.hook_event_name = input.hook_event_name;
  const ti = input.tool_input;
  if (ti && typeof ti === "object" && !Array.isArray(ti)) slim.tool_input = scalars(ti, "tool_input.");
  if (Object.keys(chars).length > 0) slim.cpwd_chars = chars;
  return slim;
}

/** Fields salvageHookInput looks for, and where they go. */
const SALVAGED = ["hook_event_name", "session_id", "transcript_path", "cwd", "tool_name", "file_path", "notebook_path"] as const;

/**
 * The fields cpwd needs, read from the start of a hook input too large to take whole (a Write of
 * a huge file). Sound without a parser: inside a JSON string every quote is escaped, so an
 * unescaped `"file_path": "…"` can only be a real key, never file content. Null when the event
 * name is not in `head`; the tool's path is absent when it comes after `head` ends.
 */
export function salvageHookInput(head: string): HookInput | null {
  const found: Record<string, string> = {};
  for (const key of SALVAGED) {
    const m = new RegExp(`(?<!\\\\)"${key}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(head);
    if (!m) continue;
    try {
      found[key] = JSON.parse(m[1]!) as string;
    } catch {
      // a cut escape sequence: leave the field out
    }
  }
  if (!found.hook_event_name) return null;
  const { file_path, notebook_path, ...top } = found;
  const input: HookInput = { ...top, hook_event_name: found.hook_event_name };
  if (file_path !== undefined || notebook_path !== undefined) {
    input.tool_input = { ...(file_path !== undefined ? { file_path } : {}), ...(notebook_path !== undefined ? { notebook_path } : {}) };
  }
  return input;
}

/** A string field's length before the shim cut it (see slimHookInput). */
function charsOf(input: HookInput, key: string, value: string): number {
  const cut = input.cpwd_chars as Record<string, unknown> | undefined;
  return typeof cut?.[key] === "number" ? (cut[key] as number) : value.length;
}

/** True when `v` looks like a hook payload (an object naming its event). */
export function isHookInput(v: unknown): v is HookInput {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as HookInput).hook_event_name === "string";
}
