// Reading the record: a range from a seq with a limit (the `events.read` method), and an async
// iterator over every event (for `cpwd events` and tools), across the closed segments and the live
// events.jsonl, in seq order. Bad lines are skipped; unknown types pass through unchanged.
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { EventRecord } from "../protocol/events.js";
import { MAX_LINE_BYTES, parseEventLine } from "./record.js";
import { listRecordFiles, segmentChunks, type Segment } from "./segments.js";

export interface ReadRange {
  fromSeq: number;
  limit: number;
  /** Exact type, or a prefix when it ends in "." (e.g. "worker."). */
  type?: string | undefined;
  /** Start reading the live file at this byte offset (from the seq index); must be a line start. */
  startOffset?: number;
  /** The seq of the first event of the live file `startOffset` was taken from (`EventLog.liveOffsetFor`). */
  startFirstSeq?: number;
  /** Stop before any event with a greater seq (what was durable when the read began). */
  upToSeq?: number;
  /** Stop once the events would encode to more than this many bytes (always at least one). */
  maxBytes?: number;
}

/** A page of events, and whether it stopped at a bound (`limit`, `maxBytes`) with more to read. */
export interface EventPage {
  events: EventRecord[];
  /** Each event's JSON: its line as the record holds it (the same value as the event). */
  texts: string[];
  more: boolean;
}

/** Does `type` match the filter? */
export function typeMatches(type: string, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  return filter.endsWith(".") ? type.startsWith(filter) : type === filter;
}

/** Where a reader that asked for them (`ReadRecordOptions.lines`) finds each event's line. */
export type EventLines = WeakMap<EventRecord, string>;

/**
 * Every good event of one file from `startOffset`, in order. A missing file yields nothing.
 * `keepLine`, when given, skips lines before they are parsed (a cheap substring test); `lines`,
 * when given, gets each event's line.
 */
async function* readFileEvents(file: string | FileHandle, startOffset = 0, keepLine?: (line: string) => boolean, lines?: EventLines): AsyncGenerator<EventRecord> {
  const stream = typeof file === "string" ? createReadStream(file, { start: startOffset }) : file.createReadStream({ start: startOffset });
  const missing = new Promise<void>((resolve) => stream.once("error", () => resolve()));
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (keepLine && !keepLine(line)) continue;
      const e = parseEventLine(line);
      if (!e) continue;
      lines?.set(e, line);
      yield e;
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
 * Every good event of a closed segment (decompressed as it is read). Chunks are split on the
 * newline byte and decoded only up to it: a chunk may end inside a multi-byte character, which
 * decoding the chunk alone would turn into U+FFFD. A line longer than MAX_LINE_BYTES is dropped
 * as a bad line.
 */
async function* readSegmentEvents(seg: Segment, keepLine?: (line: string) => boolean, lines?: EventLines): AsyncGenerator<EventRecord> {
  let carry: Buffer = Buffer.alloc(0);
  let overlong = false;
  for await (const chunk of segmentChunks(seg)) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const lastNl = buf.lastIndexOf(10);
    if (lastNl < 0) {
      // No line ends here: kept whole unless it is past any good line's size (a tail of NULs).
      overlong ||= buf.length > MAX_LINE_BYTES;
      carry = overlong ? Buffer.alloc(0) : Buffer.from(buf);
      continue;
    }
    const texts = buf.toString("utf8", 0, lastNl).split("\n");
    if (overlong) texts.shift();
    overlong = false;
    carry = Buffer.from(buf.subarray(lastNl + 1));
    const events: EventRecord[] = [];
    for (const line of texts) {
      if (keepLine && !keepLine(line)) continue;
      const e = parseEventLine(line);
      if (!e) continue;
      lines?.set(e, line);
      events.push(e);
    }
    yield* events;
  }
}

export interface ReadRecordOptions {
  /** The first seq wanted. @default 1 */
  fromSeq?: number;
  /** A byte offset of events.jsonl at or before `fromSeq`'s line (the seq index's); checked, not trusted. */
  liveOffset?: number;
  /**
   * The seq of the first event of the live file `liveOffset` was taken from: the offset is used
   * only on a live file that still begins with it (a rotation since makes it another file's).
   */
  liveFirstSeq?: number;
  /** Skips lines before they are parsed (a cheap substring test). */
  keepLine?: (line: string) => boolean;
  /** Gets each event's line, for a reader that sends them on as they are (`readPage`). */
  lines?: EventLines;
}

/**
 * The record's events from `fromSeq` on, in seq order, each once: the closed segments that hold
 * them, then events.jsonl. A rotation while reading is caught up with: when the live file starts
 * past what was read, the segment it closed meanwhile is read first, and after the live file the
 * segments are looked at once more. A segment removed by
 * `cpwd gc` is passed over.
 */
export async function* readRecord(file: string, opts: ReadRecordOptions = {}): AsyncGenerator<EventRecord> {
  const fromSeq = opts.fromSeq ?? 1;
  let last = fromSeq - 1;
  async function* segmentsAfter(before: number): AsyncGenerator<EventRecord> {
    for (const seg of listRecordFiles(file).segments) {
      if (seg.lastSeq <= last || seg.firstSeq >= before) continue;
      for await (const e of readSegmentEvents(seg, opts.keepLine, opts.lines)) {
        if (e.seq <= last || e.seq >= before) continue;
        last = e.seq;
        yield e;
      }
    }
  }
  yield* segmentsAfter(Infinity);
  let offset = opts.liveOffset ?? 0;
  for (;;) {
    let restart = false;
    let seen = false;
    const source = offset > 0 && opts.liveFirstSeq !== undefined ? await openIfBeginsWith(file, opts.liveFirstSeq) : file;
    if (source === null) offset = 0;
    for await (const e of readFileEvents(source ?? file, offset, opts.keepLine, opts.lines)) {
      seen = true;
      if (e.seq <= last) continue;
      if (e.seq > last + 1) {
        // The offset was not this file's (rotated meanwhile), or the file began after `last`.
        if (offset > 0) {
          restart = true;
          break;
        }
        yield* segmentsAfter(e.seq);
      }
      last = e.seq;
      yield e;
    }
    // Nothing at all at an offset the index gave (an event is always there): another file's.
    if (!restart && (seen || offset === 0)) break;
    offset = 0;
  }
  // A rotation after the segments were listed left the events read for the live file in a
  // segment, and a new live file still empty (nothing in it to show the gap): read them there.
  yield* segmentsAfter(Infinity);
}

/**
 * events.jsonl opened, when its first event has seq `firstSeq` (read from the writer's envelope,
 * `{"v":1,"seq":N,`); else null. The handle is what is read after: a rotation after the check
 * renames this very file into segments/, so the offset stays valid for what is read.
 */
async function openIfBeginsWith(file: string, firstSeq: number): Promise<FileHandle | null> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch {
    return null;
  }
  const head = Buffer.alloc(64);
  const { bytesRead } = await fh.read(head, 0, head.length, 0).catch(() => ({ bytesRead: 0 }));
  const seq = /^\{"v":1,"seq":(\d+),/.exec(head.toString("latin1", 0, bytesRead))?.[1];
  if (seq !== undefined && Number(seq) === firstSeq) return fh;
  await fh.close().catch(() => {});
  return null;
}

/**
 * Every good event of the record, in order (`startOffset` 0), or of events.jsonl from a byte
 * offset. A missing file yields nothing. `keepLine` skips lines before they are parsed.
 */
export function readEventLines(file: string, startOffset = 0, keepLine?: (line: string) => boolean): AsyncGenerator<EventRecord> {
  return startOffset === 0 ? readRecord(file, keepLine ? { keepLine } : {}) : readFileEvents(file, startOffset, keepLine);
}

/**
 * Events with seq ≥ fromSeq (and matching type, and ≤ upToSeq), at most `limit` of them and at
 * most about `maxBytes` of JSON, so that one page (and a batch of pages) stays small whatever the
 * events' sizes; always at least one event, so a reader makes progress.
 */
export async function readPage(file: string, range: ReadRange): Promise<EventPage> {
  const events: EventRecord[] = [];
  const texts: string[] = [];
  // The lines are the events' JSON already: a page is measured and sent without serialising
  // each event again (two JSON.stringify calls an event were over a third of a page's cost).
  const lines: EventLines = new WeakMap();
  let bytes = 0;
  for await (const e of readRecord(file, {
    fromSeq: range.fromSeq,
    liveOffset: range.startOffset ?? 0,
    ...(range.startFirstSeq !== undefined ? { liveFirstSeq: range.startFirstSeq } : {}),
    lines,
  })) {
    if (range.upToSeq !== undefined && e.seq > range.upToSeq) break;
    if (!typeMatches(e.type, range.type)) continue;
    const text = lines.get(e) ?? JSON.stringify(e);
    if (range.maxBytes !== undefined) {
      const size = Buffer.byteLength(text) + 1;
      if (events.length > 0 && bytes + size > range.maxBytes) return { events, texts, more: true };
      bytes += size;
    }
    events.push(e);
    texts.push(text);
    if (events.length >= range.limit) return { events, texts, more: true };
  }
  return { events, texts, more: false };
}

/** Events with seq ≥ fromSeq (and matching type), at most `limit`. */
export async function readRange(file: string, range: ReadRange): Promise<EventRecord[]> {
  return (await readPage(file, range)).events;
}
