// Reading events.jsonl: a range from a seq with a limit (the `events.read` method), and an async
// iterator over every event (for `cpwd replay` and tools). Bad lines are skipped; unknown types
// pass through unchanged.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { EventRecord } from "../protocol/events.js";
import { parseEventLine } from "./record.js";

export interface ReadRange {
  fromSeq: number;
  limit: number;
  /** Exact type, or a prefix when it ends in "." (e.g. "worker."). */
  type?: string | undefined;
  /** Start reading at this byte offset (from the seq index); must be a line start. */
  startOffset?: number;
  /** Stop before any event with a greater seq (what was durable when the read began). */
  upToSeq?: number;
  /** Stop once the events would encode to more than this many bytes (always at least one). */
  maxBytes?: number;
}

/** A page of events, and whether it stopped at a bound (`limit`, `maxBytes`) with more to read. */
export interface EventPage {
  events: EventRecord[];
  more: boolean;
}

/** Does `type` match the filter? */
export function typeMatches(type: string, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  return filter.endsWith(".") ? type.startsWith(filter) : type === filter;
}

/**
 * Every good event in the file, in order. A missing file yields nothing. `keepLine`, when given,
 * skips lines before they are parsed (a cheap substring test for a reader that wants few events).
 */
export async function* readEventLines(file: string, startOffset = 0, keepLine?: (line: string) => boolean): AsyncGenerator<EventRecord> {
  const stream = createReadStream(file, { start: startOffset });
  const missing = new Promise<void>((resolve) => stream.once("error", () => resolve()));
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (keepLine && !keepLine(line)) continue;
      const e = parseEventLine(line);
      if (e) yield e;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  } finally {
    rl.close();
    stream.destroy();
    void missing;
  }
}

/**
 * Events with seq ≥ fromSeq (and matching type, and ≤ upToSeq), at most `limit` of them and at
 * most about `maxBytes` of JSON, so that one page (and a batch of pages) stays small whatever the
 * events' sizes; always at least one event, so a reader makes progress.
 */
export async function readPage(file: string, range: ReadRange): Promise<EventPage> {
  const events: EventRecord[] = [];
  let bytes = 0;
  for await (const e of readEventLines(file, range.startOffset ?? 0)) {
    if (range.upToSeq !== undefined && e.seq > range.upToSeq) break;
    if (e.seq < range.fromSeq || !typeMatches(e.type, range.type)) continue;
    if (range.maxBytes !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (events.length > 0 && bytes + size > range.maxBytes) return { events, more: true };
      bytes += size;
    }
    events.push(e);
    if (events.length >= range.limit) return { events, more: true };
  }
  return { events, more: false };
}

/** Events with seq ≥ fromSeq (and matching type), at most `limit`. */
export async function readRange(file: string, range: ReadRange): Promise<EventRecord[]> {
  return (await readPage(file, range)).events;
}
