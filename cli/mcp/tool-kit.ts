// What every cpwd MCP tool shares: the context it runs in, and how a result is returned.
import type { CliContext } from "../context.js";
import type { DaemonLink } from "./daemon-link.js";

/** What the tools are given by the server. */
export interface ToolDeps {
  /** The server's CLI context (its stdout is the protocol channel: never written by a tool). */
  ctx: CliContext;
  link: DaemonLink;
  /** Aborted when the server closes: long waits end then. */
  closing: AbortSignal;
}

/**
 * A tool result with structured content, and the same JSON as its text (for clients that read
 * only text; Claude Code hands the structured content to the model).
 */
export function structured<T extends Record<string, unknown>>(data: T): { content: Array<{ type: "text"; text: string }>; structuredContent: T } {
  return { content: [{ type: "text", text: JSON.stringify(data, null, 2) }], structuredContent: data };
}

/** The message of an error, prefixed as the CLI prefixes it (`cpwd stop W3: …`). */
export function cliError(prefix: string, err: unknown): Error {
  return new Error(`${prefix}: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * Text cut to at most `maxChars`, whole lines kept: the last ones (`keep: "tail"`, for logs) or the
 * first ones (`"head"`, for a diff). Returns the lines and whether any were left out.
 */
export function capLines(text: string, maxChars: number, keep: "head" | "tail"): { lines: string[]; truncated: boolean } {
  const all = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const lines: string[] = [];
  let size = 0;
  const ordered = keep === "tail" ? [...all].reverse() : all;
  for (const line of ordered) {
    if (size + line.length + 1 > maxChars && lines.length > 0) break;
    lines.push(line);
    size += line.length + 1;
  }
  return { lines: keep === "tail" ? lines.reverse() : lines, truncated: lines.length < all.length };
}
