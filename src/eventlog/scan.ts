// One forward pass over events.jsonl: every good event with its byte offset, where the good
// region ends, and what follows it. Start-up replay, recovery and `cpwd replay` all use it.
//
// The pass is streamed (chunks, nothing kept per event) and light: a reader that wants only some
// lines says so (`keepLine`), and a line it does not want is told apart by its envelope
// (`{"v":1,"seq":N,"ts":"…","type":"…","source":"…"`, the writer's order), read byte by byte with no
// JSON.parse and no allocation — JSON.parse of every line was most of a replay's time. A line not
// in that form (a hand-written key order, escapes in its type) is parsed in full, as before.
import { closeSync, openSync, readSync } from "node:fs";
import type { EventRecord } from "../protocol/events.js";
import { parseEventLine } from "./record.js";

export interface ScanResult {
  /** File size when scanned. */
  sizeBytes: number;
  /** Byte offset just after the last good event line (its newline included). */
  goodEndBytes: number;
  lastSeq: number;
  eventCount: number;
  /** Unparseable complete lines before goodEnd (skipped, kept on disk). */
  badLinesKept: number;
  /** Complete lines after goodEnd that did not parse (part of the bad tail). */
  badLinesInTail: number;
}

export interface ScanOptions {
  /**
   * Which lines `onEvent` wants, from their envelope; the others are counted (seq, offsets) and
   * never parsed. @default every line
   */
  keepLine?: (e: Envelope) => boolean;
  /** Stop before the first event with a greater seq (`cpwd replay --at`). @default no bound */
  upToSeq?: number;
  /** Start at this byte offset, a line start. @default 0 */
  startOffset?: number;
  /** Pass over events with this seq or a lower one, unparsed (a snapshot holds them). @default 0 */
  afterSeq?: number;
}

/** What a line's envelope says, read without JSON.parse (strings interned: no allocation a line). */
export interface Envelope {
  seq: number;
  type: string;
  source: string;
  /** N of a `W<N>` worker id, else -1 (no worker, or another form). */
  workerNumber: number;
}

const PREFIX = new Uint8Array(Buffer.from('{"v":1,"seq":'));
const TS_KEY = new Uint8Array(Buffer.from(',"ts":"'));
const TYPE_KEY = new Uint8Array(Buffer.from(',"type":"'));
const SOURCE_KEY = new Uint8Array(Buffer.from(',"source":"'));
const WORKER_KEY = new Uint8Array(Buffer.from(',"worker":"W'));
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Does buf hold `key` at `at`? (A loop: cheaper than Buffer#compare for a dozen bytes.) */
function holdsAt(buf: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let k = 0; k < key.length; k++) if (buf[at + k] !== key[k]) return false;
  return true;
}

/** The closing quote of the JSON string starting at `from`, or -1 when it has escapes or non-ASCII. */
function plainStringEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c >= 0x80) return -1;
  }
  return -1;
}

/** The length of an ISO ts as the writer makes it (`2026-11-24T23:44:56.834Z`). */
const ISO_TS_LENGTH = 24;

/** Reads envelopes; types and sources are few, so each one's string is made once and reused. */
export class EnvelopePeeker {
  /** Strings already made, by a hash of their bytes (a few a hash, bounded). */
  private readonly interned = new Map<number, string[]>();
  private readonly out: Envelope = { seq: 0, type: "", source: "", workerNumber: -1 };

  /**
   * The envelope of buf[start, end) (a line without its newline), or null when it is not in the
   * writer's form. The object returned is reused by the next call.
   */
  peek(buf: Uint8Array, start: number, end: number): Envelope | null {
    if (end - start < 40 || buf[end - 1] !== 0x7d /* } */ || !holdsAt(buf, start, PREFIX)) return null;
    let i = start + PREFIX.length;
    let seq = 0;
    for (let c = buf[i]!; c >= 0x30 && c <= 0x39; c = buf[++i]!) seq = seq * 10 + (c - 0x30);
    if (seq < 1 || i - start - PREFIX.length > 15 || !holdsAt(buf, i, TS_KEY)) return null;
    const tsStart = i + TS_KEY.length;
    // The writer's ts has a fixed length: look for its end there before walking the string.
    const tsEnd = buf[tsStart + ISO_TS_LENGTH] === QUOTE && buf[tsStart + ISO_TS_LENGTH - 1] === 0x5a /* Z */ ? tsStart + ISO_TS_LENGTH : plainStringEnd(buf, tsStart, end);
    if (tsEnd < 0 || !holdsAt(buf, tsEnd + 1, TYPE_KEY)) return null;
    const typeStart = tsEnd + 1 + TYPE_KEY.length;
    const type = this.plainString(buf, typeStart, end);
    if (type === null) return null;
    const typeEnd = typeStart + type.length;
    if (!holdsAt(buf, typeEnd + 1, SOURCE_KEY)) return null;
    const sourceStart = typeEnd + 1 + SOURCE_KEY.length;
    const source = this.plainString(buf, sourceStart, end);
    if (source === null) return null;
    const sourceEnd = sourceStart + source.length;
    let workerNumber = -1;
    if (holdsAt(buf, sourceEnd + 1, WORKER_KEY)) {
      const digits = sourceEnd + 1 + WORKER_KEY.length;
      let n = 0;
      let k = digits;
      for (let c = buf[k]!; c >= 0x30 && c <= 0x39 && k - digits < 15; c = buf[++k]!) n = n * 10 + (c - 0x30);
      if (buf[k] === QUOTE && k > digits) workerNumber = n;
    }
    const e = this.out;
    e.seq = seq;
    e.type = type;
    e.source = source;
    e.workerNumber = workerNumber;
    return e;
  }

  /** The plain (ASCII, unescaped) JSON string starting at `from`, made once per distinct value; null when not plain. */
  private plainString(buf: Uint8Array, from: number, end: number): string | null {
    let h = 0;
    let i = from;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH || c >= 0x80) return null;
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (i >= end) return null;
    const bucket = this.interned.get(h);
    if (bucket) {
      for (const s of bucket) if (sameAscii(s, buf, from, i)) return s;
    }
    const s = Buffer.from(buf.buffer, buf.byteOffset + from, i - from).toString("latin1");
    // Bounded: a log of endless distinct types must not grow this without end.
    if (bucket) {
      if (bucket.length < 4) bucket.push(s);
    } else if (this.interned.size < 4096) this.interned.set(h, [s]);
    return s;
  }
}

function sameAscii(s: string, buf: Uint8Array, from: number, to: number): boolean {
  if (s.length !== to - from) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/** Lines split from chunks as they come, each taken as `scanLog` describes; nothing kept per line. */
export class LineScanner {
  readonly result: ScanResult;
  /** The last good line when it was not parsed: its ts is read once its chunk is done. */
  private unparsedLast: { buf: Buffer; from: number; to: number } | null = null;
  private lastTsValue: string | null = null;
  private carry = Buffer.alloc(0);
  /** File offset of the next byte pushed. */
  private pos: number;
  private badSinceGood = 0;
  private stopped = false;
  private readonly peeker = new EnvelopePeeker();

  constructor(
    private readonly onEvent: ((e: EventRecord, offset: number) => void) | undefined,
    private readonly opts: ScanOptions = {},
  ) {
    this.pos = opts.startOffset ?? 0;
    this.result = { sizeBytes: 0, goodEndBytes: this.pos, lastSeq: 0, eventCount: 0, badLinesKept: 0, badLinesInTail: 0, };
  }

  /** The last seq taken. */
  get lastSeq(): number {
    return this.result.lastSeq;
  }

  /** Events taken (after `afterSeq`). */
  get count(): number {
    return this.result.eventCount;
  }

  /** True once a line past `upToSeq` was met: nothing more is taken. */
  get done(): boolean {
    return this.stopped;
  }

  /** The ts of the last event taken, or null. */
  get lastTs(): string | null {
    this.settleTs();
    return this.lastTsValue;
  }

  /** Takes the next bytes of the file. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    const bufOffset = this.pos - this.carry.length;
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.pos += chunk.length;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      if (!this.take(buf, from, nl, bufOffset + from)) {
        this.stopped = true;
        break;
      }
      from = nl + 1;
    }
    this.settleTs();
    this.carry = this.stopped ? Buffer.alloc(0) : Buffer.from(buf.subarray(from));
  }

  /** The file ended: the result, with what followed the last good line. */
  end(): ScanResult {
    this.result.sizeBytes = Math.max(this.pos, this.result.goodEndBytes);
    this.result.badLinesInTail = this.badSinceGood;
    return this.result;
  }

  private settleTs(): void {
    if (!this.unparsedLast) return;
    const { buf, from, to } = this.unparsedLast;
    this.lastTsValue = parseEventLine(buf.toString("utf8", from, to))?.ts ?? this.lastTsValue;
    this.unparsedLast = null;
  }

  /** Takes the line buf[from, nl) at file offset `at`; false once past `upToSeq`. */
  private take(buf: Buffer, from: number, nl: number, at: number): boolean {
    const { keepLine, upToSeq = Infinity, afterSeq = 0 } = this.opts;
    let seq: number;
    const peek = keepLine || afterSeq > 0 ? this.peeker.peek(buf, from, nl) : null;
    // A line whose seq does not follow on is parsed in full, whatever its type: a hand-edited or
    // damaged line must not set the record's last seq from its envelope alone.
    const follows = this.result.lastSeq === 0 || peek?.seq === this.result.lastSeq + 1;
    if (peek && follows && (peek.seq <= afterSeq || (keepLine && !keepLine(peek)))) {
      seq = peek.seq;
      if (seq > upToSeq) return false;
      // The ts is read later, once, from whichever line turns out to be the last.
      this.unparsedLast = { buf, from, to: nl };
    } else {
      const e = parseEventLine(buf.toString("utf8", from, nl));
      if (!e) {
        if (nl > from) this.badSinceGood++;
        return true;
      }
      seq = e.seq;
      if (seq > upToSeq) return false;
      if (seq > afterSeq) this.onEvent?.(e, at);
      this.unparsedLast = null;
      this.lastTsValue = e.ts;
    }
    const r = this.result;
    r.lastSeq = seq;
    if (seq > afterSeq) r.eventCount++;
    r.goodEndBytes = at + (nl - from) + 1;
    r.badLinesKept += this.badSinceGood;
    this.badSinceGood = 0;
    return true;
  }
}

/**
 * Streams the log in 1 MiB chunks, calling `onEvent` for each good line in order (of the kept
 * types). A missing file scans as empty. Synchronous on purpose: it runs once at start, before the
 * daemon serves anyone, and in the CLI's one-shot commands.
 */
export function scanLog(file: string, onEvent?: (e: EventRecord, offset: number) => void, opts: ScanOptions = {}): ScanResult {
  return scanLogWith(file, new LineScanner(onEvent, opts));
}

/** `scanLog` through a scanner the caller keeps (for its `lastTs`). */
export function scanLogWith(file: string, scanner: LineScanner): ScanResult {
  const found = readFileChunks(file, scanner.result.goodEndBytes, (chunk) => {
    scanner.push(chunk);
    return !scanner.done;
  });
  return found ? scanner.end() : { ...scanner.end(), goodEndBytes: 0, sizeBytes: 0 };
}

/**
 * Hands `onChunk` the file's bytes from `startOffset` in 1 MiB chunks (the same buffer each time)
 * until it returns false or the file ends; false when the file does not exist.
 */
export function readFileChunks(file: string, startOffset: number, onChunk: (chunk: Buffer) => boolean): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let pos = startOffset; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0 || !onChunk(chunk.subarray(0, n))) return true;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A lighter scan for readers that want few lines: the lines holding `needle` (a byte string such as
 * `"type":"worker.`) are found by a native search over each chunk, and only they are looked at
 * (peeked, then parsed when `keepLine` takes them); the lines between are never split. The seq of
 * the last line of each chunk is read to stop at `upToSeq` and to know the record's last seq.
 * A line the needle does not find is passed over whole, so the needle must be in every line the
 * reader wants (a type key in any JSON form holds `"type":"` once spaces are left out, as the
 * writer does).
 */
export class NeedleScanner {
  private carry: Buffer = Buffer.alloc(0);
  private readonly peeker = new EnvelopePeeker();
  private readonly needle: Buffer;
  private stopped = false;
  /** The last seq met (at most `upToSeq`). */
  lastSeq = 0;
  /** Not counted by this scan. */
  readonly count = 0;
  /** The last good line when it was not parsed, for its ts. */
  private lastLine: Buffer | null = null;
  private lastParsedTs: string | null = null;

  constructor(
    needle: string,
    private readonly onEvent: (e: EventRecord) => void,
    private readonly opts: Pick<ScanOptions, "keepLine" | "upToSeq" | "afterSeq"> = {},
  ) {
    this.needle = Buffer.from(needle);
  }

  get done(): boolean {
    return this.stopped;
  }

  /** The ts of the last event met, or null. */
  get lastTs(): string | null {
    if (this.lastLine) {
      this.lastParsedTs = parseEventLine(this.lastLine.toString("utf8"))?.ts ?? this.lastParsedTs;
      this.lastLine = null;
    }
    return this.lastParsedTs;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    const firstNl = chunk.indexOf(10);
    if (firstNl < 0) {
      this.carry = Buffer.concat([this.carry, chunk]);
      return;
    }
    // The line the previous chunk began, completed: looked at on its own.
    const head = Buffer.concat([this.carry, chunk.subarray(0, firstNl)]);
    if (!this.line(head, 0, head.length, true, this.holdsNeedle(head, 0, head.length))) return;
    const lastNl = chunk.lastIndexOf(10);
    this.region(chunk, firstNl + 1, lastNl);
    this.carry = this.stopped ? Buffer.alloc(0) : Buffer.from(chunk.subarray(lastNl + 1));
  }

  /** Lines of buf[from, to) (`to` a newline). */
  private region(buf: Buffer, from: number, to: number): void {
    if (to <= from || this.stopped) return;
    const lastStart = buf.lastIndexOf(10, to - 1) + 1;
    const last = this.peeker.peek(buf, Math.max(from, lastStart), to)?.seq ?? null;
    if (last === null || last > (this.opts.upToSeq ?? Infinity)) {
      // The chunk crosses the bound (or ends oddly): line by line, so the bound is met exactly.
      for (let start = from; start < to && !this.stopped; ) {
        const nl = buf.indexOf(10, start);
        if (!this.line(buf, start, nl, true, this.holdsNeedle(buf, start, nl))) return;
        start = nl + 1;
      }
      return;
    }
    for (let at = buf.indexOf(this.needle, from); at >= 0 && at < to; at = buf.indexOf(this.needle, at)) {
      // The line's start is a few dozen bytes back: a loop beats a native search's set-up.
      let start = at;
      while (start > from && buf[start - 1] !== 10) start--;
      const nl = buf.indexOf(10, at);
      this.line(buf, start, nl, false, true);
      at = nl + 1;
    }
    this.lastSeq = last;
    this.lastLine = Buffer.from(buf.subarray(Math.max(from, lastStart), to));
  }

  private holdsNeedle(buf: Buffer, from: number, to: number): boolean {
    return buf.subarray(from, to).indexOf(this.needle) >= 0;
  }

  /**
   * One line; `counts`: its seq is the record's last so far; `holds`: it holds the needle (else it
   * is only counted). False once past the bound.
   */
  private line(buf: Buffer, from: number, nl: number, counts: boolean, holds: boolean): boolean {
    const { keepLine, upToSeq = Infinity, afterSeq = 0 } = this.opts;
    const env = this.peeker.peek(buf, from, nl);
    let seq: number;
    if (env) {
      seq = env.seq;
      if (seq > upToSeq) return this.stop();
      if (holds && seq > afterSeq && (!keepLine || keepLine(env))) this.take(buf, from, nl);
      if (counts) this.lastLine = Buffer.from(buf.subarray(from, nl));
    } else {
      const e = parseEventLine(buf.toString("utf8", from, nl));
      if (!e) return true;
      seq = e.seq;
      if (seq > upToSeq) return this.stop();
      if (holds && seq > afterSeq && (!keepLine || keepLine(envelopeOf(e)))) this.onEvent(e);
      if (counts) {
        this.lastLine = null;
        this.lastParsedTs = e.ts;
      }
    }
    if (counts) this.lastSeq = seq;
    return true;
  }

  private take(buf: Buffer, from: number, nl: number): void {
    const e = parseEventLine(buf.toString("utf8", from, nl));
    if (e) this.onEvent(e);
  }

  private stop(): boolean {
    this.stopped = true;
    return false;
  }
}

/** A parsed record's envelope, as a peek would have read it. */
export function envelopeOf(r: EventRecord): Envelope {
  const m = r.worker === undefined ? null : /^W(\d+)$/.exec(r.worker);
  return { seq: r.seq, type: r.type, source: r.source, workerNumber: m ? Number(m[1]) : -1 };
}
