// A line's envelope (`{"v":1,"seq":N,"ts":"…","type":"…","source":"…"` then `,"worker":"W<N>"` or
// not, the order the writer uses) read byte by byte with no JSON.parse and no allocation a line:
// what lets a scan pass over the lines a reader does not want for a fraction of a parse's cost.
import type { EventRecord } from "../protocol/events.js";

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

/** A parsed record's envelope, as a peek would have read it. */
export function envelopeOf(r: EventRecord): Envelope {
  const m = r.worker === undefined ? null : /^W(\d+)$/.exec(r.worker);
  return { seq: r.seq, type: r.type, source: r.source, workerNumber: m ? Number(m[1]) : -1 };
}
