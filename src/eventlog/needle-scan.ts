// The lightest scan of the record, for a reader that wants few lines (`cpwd replay`, start-up's
// first pass): the lines holding a byte string are found by a native search over each chunk, and
// only they are looked at; the lines between are never split.
import type { EventRecord } from "../protocol/events.js";
import { EnvelopePeeker, envelopeOf } from "./envelope.js";
import { MAX_LINE_BYTES, parseEventLine } from "./record.js";
import type { ScanOptions } from "./scan.js";

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
  /** The line being read is past MAX_LINE_BYTES: its bytes are dropped up to its newline. */
  private dropping = false;
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
    if (this.dropping) {
      // Inside a line already too long to be good: passed over to its newline, a bad line.
      const nl = chunk.indexOf(10);
      if (nl < 0) return;
      this.dropping = false;
      chunk = chunk.subarray(nl + 1);
    }
    const firstNl = chunk.indexOf(10);
    if (firstNl < 0) {
      this.carry = Buffer.concat([this.carry, chunk]);
      if (this.carry.length > MAX_LINE_BYTES) {
        this.carry = Buffer.alloc(0);
        this.dropping = true;
      }
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
