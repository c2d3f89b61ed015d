// Renders a Claude worker's stream-json output (`claude -p --output-format stream-json --verbose`)
// as a transcript a person reads: the assistant's text, one line per tool call with its key input,
// abbreviated tool results, refusals marked, and the final result with turns, cost and duration.
// Pure and stateful: fed one line at a time, it pairs each tool_result with its tool_use. Lenient:
// Claude Code adds fields and line types often, so unknown ones are skipped, and a line that is not
// JSON (a crash message) passes through as it is.
import { plural } from "../../src/protocol/plural.js";
import { formatDuration } from "./durations.js";

type Json = Record<string, unknown>;

/** A tool call seen in the stream, remembered until its result arrives. */
interface ToolCall {
  name: string;
  /** Its key input, short: a path relative to the session's folder, a command's first line… */
  target: string;
}

/** How a tool result was refused, if it was. */
interface Refusal {
  byHook: boolean;
  reason: string;
}

/** Lines of a tool result shown before "… +N lines". */
export const RESULT_PREVIEW_LINES = 3;
/** Characters of a line shown before it is cut with "…". */
export const LINE_MAX_CHARS = 160;

/** The input fields that best say what a tool call is about, most telling first. */
const KEY_INPUTS = ["file_path", "notebook_path", "command", "pattern", "url", "query", "description", "skill", "prompt", "path"];

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The first line of `text`, cut at `max` characters (with "…" when anything was left out). */
export function firstLine(text: string, max = LINE_MAX_CHARS): string {
  const lines = text.trim().split("\n");
  const line = lines[0] ?? "";
  if (line.length > max) return `${line.slice(0, max - 1)}…`;
  return lines.length > 1 ? `${line} …` : line;
}

/** Parses one stream line to an object, or null when it is not a JSON object. */
function parseLine(line: string): Json | null {
  if (!line.trimStart().startsWith("{")) return null;
  try {
    const v: unknown = JSON.parse(line);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** When Claude Code wrote this stream line (assistant and user messages carry it), in ms. */
export function streamLineTime(line: string): number | null {
  const msg = parseLine(line);
  return msg ? messageTime(msg) : null;
}

function messageTime(msg: Json): number | null {
  const t = str(msg.timestamp);
  const ms = t === null ? NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** A path shown relative to the session's folder when it lies inside it. */
function relativeTo(cwd: string | null, path: string): string {
  if (!cwd) return path;
  for (const sep of ["/", "\\"]) if (path.startsWith(cwd.endsWith(sep) ? cwd : cwd + sep)) return path.slice(cwd.length + (cwd.endsWith(sep) ? 0 : 1));
  return path;
}

/** A tool call's key input, short: `np.txt`, `npm test`, `"TODO" in src`. */
export function toolTarget(input: unknown, cwd: string | null): string {
  if (!isObject(input)) return "";
  if (Array.isArray(input.todos)) return plural(input.todos.length, "item");
  const key = KEY_INPUTS.find((k) => typeof input[k] === "string" && input[k] !== "");
  if (key === undefined) {
    const any = Object.values(input).find((v): v is string => typeof v === "string" && v !== "");
    return any === undefined ? "" : firstLine(any, 80);
  }
  const value = input[key] as string;
  if (key === "file_path" || key === "notebook_path" || key === "path") return relativeTo(cwd, value);
  if (key === "pattern" && typeof input.path === "string") return `${firstLine(value, 80)} in ${relativeTo(cwd, input.path)}`;
  return firstLine(value, 120);
}

/** The text of a tool_result's content: a string, or text blocks (an image shows as [image]). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => (isObject(b) ? (b.type === "text" ? (str(b.text) ?? "") : b.type === "image" ? "[image]" : "") : ""))
    .filter((t) => t !== "")
    .join("\n");
}

/** Claude Code wraps some errors in <tool_use_error>…</tool_use_error>, and prefixes "Error: ". */
function cleanError(text: string): string {
  return text.replace(/<\/?tool_use_error>/g, "").replace(/^Error: /, "").trim();
}

const HOOK_DENY = /^\s*(?:Error: )?PreToolUse:\S* ?hook error: /;
const NOT_GRANTED = /haven't granted|requested permissions? to|doesn't want to proceed/i;

/**
 * Whether a tool_result is a refusal: Claude Code's `tool_result_meta` says `reject` (2.1.331), or
 * the error text is a PreToolUse hook's deny or the "haven't granted" of a permission mode. A tool
 * that ran and failed (even with "Permission denied" from the OS) is an error, not a refusal.
 */
function refusalOf(block: Json, meta: Json | undefined): Refusal | null {
  const text = resultText(block.content);
  const decision = isObject(meta?.permission_decision) ? meta.permission_decision : undefined;
  const byHook = HOOK_DENY.test(text) || decision?.source === "hook";
  const refused = decision?.decision === "reject" || (block.is_error === true && (byHook || NOT_GRANTED.test(text)));
  if (!refused) return null;
  return { byHook, reason: firstLine(cleanError(text.replace(HOOK_DENY, "")), 300) };
}

/** "$0.0004", like `cpwd status`. */
function formatCost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** "850ms", "1.7s", then as `formatDuration` ("4m 10s"). */
function formatRunTime(ms: number): string {
  return ms >= 1000 && ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

/** A tool result shown in at most RESULT_PREVIEW_LINES lines under its call. */
function previewResult(text: string, mark: string): string[] {
  const lines = text.replace(/\s+$/, "").split("\n");
  if (lines.length === 1 && lines[0] === "") return [`  ${mark} (no output)`];
  const shown = lines.slice(0, RESULT_PREVIEW_LINES).map((l, i) => `${i === 0 ? `  ${mark} ` : "    "}${firstLine(l)}`);
  if (lines.length > RESULT_PREVIEW_LINES) shown.push(`    … +${plural(lines.length - RESULT_PREVIEW_LINES, "line")}`);
  return shown;
}

/** Turns stream-json lines, one at a time, into transcript lines. */
export class TranscriptRenderer {
  private readonly calls = new Map<string, ToolCall>();
  /** Tool calls whose refusal is already shown (a `permission_denied` line comes before its result). */
  private readonly refusalShown = new Set<string>();
  private cwd: string | null = null;
  private lastText: string | null = null;

  /** Renders one line of the stream (without its newline); [] for lines not worth showing. */
  push(line: string): string[] {
    const msg = parseLine(line);
    if (msg === null) return line.trim() === "" ? [] : [line];
    const lines = this.render(msg);
    // A subagent's messages (Task/Agent) are indented under the call that started it.
    return typeof msg.parent_tool_use_id === "string" ? lines.map((l) => `  ┆ ${l}`) : lines;
  }

  private render(msg: Json): string[] {
    switch (msg.type) {
      case "system":
        return this.system(msg);
      case "assistant":
        return this.assistant(msg);
      case "user":
        return this.user(msg);
      case "result":
        return this.result(msg);
      default:
        return [];
    }
  }

  private system(msg: Json): string[] {
    if (msg.subtype === "init") {
      this.cwd = str(msg.cwd);
      const parts = [str(msg.model), str(msg.session_id) && `session ${msg.session_id}`, str(msg.permissionMode) && `permission mode ${msg.permissionMode}`, this.cwd && `in ${this.cwd}`];
      return [`── ${parts.filter(Boolean).join(" · ")}`];
    }
    if (msg.subtype === "permission_denied") {
      const id = str(msg.tool_use_id);
      const call = (id && this.calls.get(id)) || { name: str(msg.tool_name) ?? "tool", target: "" };
      if (id) this.refusalShown.add(id);
      return [this.refusalLine(call, { byHook: false, reason: firstLine(str(msg.message) ?? "", 300) })];
    }
    if (msg.subtype === "hook_response" && (msg.outcome !== undefined ? msg.outcome !== "success" : msg.exit_code !== 0)) {
      const detail = str(msg.stderr) || str(msg.output) || "";
      return [`  ! hook ${str(msg.hook_name) ?? str(msg.hook_event) ?? "?"} ${str(msg.outcome) ?? "failed"}${typeof msg.exit_code === "number" ? ` (exit ${msg.exit_code})` : ""}${detail ? `: ${firstLine(detail)}` : ""}`];
    }
    if (msg.subtype === "compact_boundary") return ["── conversation compacted"];
    return [];
  }

  private assistant(msg: Json): string[] {
    const content = isObject(msg.message) && Array.isArray(msg.message.content) ? msg.message.content : [];
    const out: string[] = [];
    for (const block of content) {
      if (!isObject(block)) continue;
      if (block.type === "text" && typeof block.text === "string" && block.text.trim() !== "") {
        this.lastText = block.text.trim();
        out.push(...this.lastText.split("\n"));
      } else if (block.type === "thinking" && typeof block.thinking === "string" && block.thinking.trim() !== "") {
        out.push(`✻ ${firstLine(block.thinking)}`);
      } else if (block.type === "tool_use" || block.type === "server_tool_use") {
        const call = { name: str(block.name) ?? "tool", target: toolTarget(block.input, this.cwd) };
        if (typeof block.id === "string") this.calls.set(block.id, call);
        out.push(`⏺ ${call.name}${call.target ? `(${call.target})` : ""}`);
      }
    }
    return out;
  }

  private user(msg: Json): string[] {
    const content = isObject(msg.message) && Array.isArray(msg.message.content) ? msg.message.content : [];
    const metas = Array.isArray(msg.tool_result_meta) ? msg.tool_result_meta.filter(isObject) : [];
    const out: string[] = [];
    for (const block of content) {
      if (!isObject(block) || block.type !== "tool_result") continue;
      const id = str(block.tool_use_id) ?? "";
      const call = this.calls.get(id) ?? { name: "tool", target: "" };
      const refusal = refusalOf(block, metas.find((m) => m.id === id));
      if (refusal) {
        if (!this.refusalShown.has(id)) out.push(this.refusalLine(call, refusal));
      } else if (block.is_error === true) {
        out.push(...previewResult(cleanError(resultText(block.content)), "✗ error:"));
      } else {
        out.push(...previewResult(resultText(block.content), "⎿"));
      }
      this.calls.delete(id);
      this.refusalShown.delete(id);
    }
    return out;
  }

  private refusalLine(call: ToolCall, refusal: Refusal): string {
    const what = `${call.name}${call.target ? ` ${call.target}` : ""}`;
    return `  ✗ refused${refusal.byHook ? " by hook" : ""}: ${what}${refusal.reason ? ` — ${refusal.reason}` : ""}`;
  }

  private result(msg: Json): string[] {
    const turns = typeof msg.num_turns === "number" ? plural(msg.num_turns, "turn") : null;
    const cost = typeof msg.total_cost_usd === "number" ? formatCost(msg.total_cost_usd) : null;
    const took = typeof msg.duration_ms === "number" ? formatRunTime(msg.duration_ms) : null;
    const outcome = msg.is_error === true ? `error${typeof msg.subtype === "string" ? ` (${msg.subtype})` : ""}` : (str(msg.subtype) ?? "done");
    const out = [`── ${[outcome, turns, cost, took].filter(Boolean).join(" · ")}`];
    const denials = Array.isArray(msg.permission_denials) ? msg.permission_denials.filter(isObject) : [];
    if (denials.length > 0) {
      const named = denials.map((d) => `${str(d.tool_name) ?? "tool"}${toolTarget(d.tool_input, this.cwd) ? ` ${toolTarget(d.tool_input, this.cwd)}` : ""}`);
      out.push(`── ${denials.length} action${denials.length === 1 ? " was" : "s were"} refused: ${named.join(", ")}`);
    }
    const text = str(msg.result)?.trim();
    if (text && text !== this.lastText) out.push(...text.split("\n"));
    if (Array.isArray(msg.errors)) out.push(...msg.errors.filter((e): e is string => typeof e === "string").map((e) => `  ✗ ${firstLine(e)}`));
    return out;
  }
}

/** Renders a whole recorded stream (text with newlines) to transcript lines. */
export function renderTranscript(text: string): string[] {
  const r = new TranscriptRenderer();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.flatMap((l) => r.push(l));
}
