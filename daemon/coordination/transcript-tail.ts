// Reading the tool calls out of the end of a Claude Code session transcript (`transcript_path`, a
// JSONL file Claude Code writes and owns), bounded and defensively: the format is internal to Claude
// Code, so each line is checked with a lenient schema (unknown fields ignored, a line that does not
// fit skipped) and only what cpwd records is kept — a call's id, tool name, edited file and time,
// never its input, output or any text.
import { constants, promises as fs } from "node:fs";
import { isAbsolute } from "node:path";
import { z } from "zod";
import { editedFile } from "../../src/protocol/hooks.js";

/** Most of a transcript read: its last 8 MiB (a long session's transcript runs to hundreds). */
export const TRANSCRIPT_TAIL_BYTES = 8 * 1024 * 1024;

/** One tool call seen in a transcript, in the transcript's order. */
export interface TranscriptCall {
  toolUseId: string;
  tool: string;
  /** The file a Write/Edit/MultiEdit/NotebookEdit names. */
  filePath?: string;
  /** The time of the assistant entry that made the call (ISO, Claude Code's clock: this machine's). */
  at?: string;
  /** Its tool_result was seen: the call ran (or was refused: `isError`). */
  answered: boolean;
  isError?: boolean;
}

const ToolUse = z.object({ type: z.literal("tool_use"), id: z.string().min(1).max(200), name: z.string().min(1).max(200), input: z.record(z.string(), z.unknown()).optional() });
const ToolResult = z.object({ type: z.literal("tool_result"), tool_use_id: z.string().min(1).max(200), is_error: z.boolean().optional() });
/** An assistant or user entry: only its content blocks and time are read. */
const Entry = z.object({
  type: z.enum(["assistant", "user"]),
  timestamp: z.string().max(64).optional(),
  sessionId: z.string().optional(),
  message: z.object({ content: z.union([z.string(), z.array(z.unknown())]) }),
});

/**
 * The tool calls in `lines` (a transcript's JSONL lines), in order, with whether each was answered.
 * Lines that are not JSON or not an assistant/user entry are skipped, as are entries naming
 * another session (`sessionId`).
 */
export function callsInLines(lines: Iterable<string>, session: string): TranscriptCall[] {
  const calls = new Map<string, TranscriptCall>();
  for (const line of lines) {
    // Cheap filter before parsing: most lines are neither a tool call nor its result.
    if (!line.includes('"tool_use"') && !line.includes('"tool_result"')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a torn line (being written) or not JSON
    }
    const entry = Entry.safeParse(parsed);
    if (!entry.success || !Array.isArray(entry.data.message.content)) continue;
    if (entry.data.sessionId !== undefined && entry.data.sessionId !== session) continue;
    for (const block of entry.data.message.content) {
      if (entry.data.type === "assistant") {
        const use = ToolUse.safeParse(block);
        if (!use.success || calls.has(use.data.id)) continue;
        const file = editedFile({ hook_event_name: "", tool_name: use.data.name, tool_input: use.data.input ?? {} });
        calls.set(use.data.id, { toolUseId: use.data.id, tool: use.data.name, ...(file ? { filePath: file } : {}), ...(entry.data.timestamp ? { at: entry.data.timestamp } : {}), answered: false });
      } else {
        const result = ToolResult.safeParse(block);
        const call = result.success ? calls.get(result.data.tool_use_id) : undefined;
        if (!call || !result.success) continue;
        call.answered = true;
        if (result.data.is_error !== undefined) call.isError = result.data.is_error;
      }
    }
  }
  return [...calls.values()];
}

/**
 * The complete lines of the last `maxBytes` of the transcript at `path`: the first line is dropped
 * when the read starts mid-file, a last line without its newline (being written) too. Only an
 * absolute `*.jsonl` path naming a regular file owned by this process's user is read (opened
 * non-blocking, so a FIFO cannot hang the daemon); anything else, or a file missing or unreadable,
 * gives null. A file not modified after `newerThanMs` has nothing new: no lines, and nothing read.
 */
export async function readTranscriptTail(path: string, maxBytes = TRANSCRIPT_TAIL_BYTES, newerThanMs = 0): Promise<string[] | null> {
  if (!isAbsolute(path) || !path.endsWith(".jsonl") || path.includes("\0")) return null;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = await handle.stat();
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return null;
    if (st.mtimeMs <= newerThanMs) return [];
    const start = Math.max(0, st.size - maxBytes);
    const buf = Buffer.alloc(st.size - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const lines = buf.subarray(0, got).toString("utf8").split("\n");
    if (start > 0) lines.shift();
    lines.pop(); // "" after the last newline, or a torn last line
    return lines;
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
