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
import { EnvelopePeeker, type Envelope } from "./envelope.js";
import { MAX_LINE_BYTES, parseEventLine } from "./record.js";

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

/** Lines split from chunks as they come, each taken as `scanLog` describes; nothing kept per line. */
export class LineScanner {
  readonly result: ScanResult;
  /** The last good line when it was not parsed: its ts is read once its chunk is done. */
  private unparsedLast: { buf: Buffer; from: number; to: number } | null = null;
  private lastTsValue: string | null = null;
  private carry = Buffer.alloc(0);
  /** The line being read is past MAX_LINE_BYTES: its bytes are dropped up to its newline. */
  private dropping = false;
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
    if (this.dropping) {
      // Inside a line already too long to be good: passed over to its newline, a bad line.
      const nl = chunk.indexOf(10);
      this.pos += nl < 0 ? chunk.length : nl + 1;
      if (nl < 0) return;
      this.dropping = false;
      this.badSinceGood++;
      chunk = chunk.subarray(nl + 1);
    }
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
    if (this.carry.length > MAX_LINE_BYTES) {
      this.carry = Buffer.alloc(0);
      this.dropping = true;
    }
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
