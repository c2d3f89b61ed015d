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
}

/** Does `type` match the filter? */
export function typeMatches(type: string, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  return filter.endsWith(".") ? type.startsWith(filter) : type === filter;
}

/** Every good event in the file, in order. A missing file yields nothing. */
export async function* readEventLines(file: string, startOffset = 0): AsyncGenerator<EventRecord> {
  const stream = createReadStream(file, { start: startOffset });
  const missing = new Promise<void>((resolve) => stream.once("error", () => resolve()));
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
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

/** Events with seq ≥ fromSeq (and matching type), at most `limit`. */
export async function readRange(file: string, range: ReadRange): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const e of readEventLines(file, range.startOffset ?? 0)) {
    if (e.seq < range.fromSeq || !typeMatches(e.type, range.type)) continue;
    out.push(e);
    if (out.length >= range.limit) break;
  }
  return out;
}
