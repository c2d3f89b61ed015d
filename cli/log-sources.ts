// Where `cpwd logs` reads a worker's lines: its output.log (both streams in the order written, each
// line with its time; src/records/output-log.ts) or one stream's own file (stdout.log, stderr.log:
// for one stream, and for a worker that ran without the output mux). A source gives what is there
// (`initial`), then what is appended (`read`), then an unfinished last line (`rest`). A file that
// shrank was rotated (copytruncate): it is read from its start again.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { parseOutputRecord } from "../src/records/output-log.js";

export type Stream = "stdout" | "stderr";

/** One line of a worker's output (or, with `raw`, a piece of one as it was written). */
export interface OutputLine {
  /** When it was written, ms since the epoch, if known. */
  ms: number | null;
  /** null for a note of cpwd's own in the log (a rotation's "[cpwd: … dropped]" line). */
  stream: Stream | null;
  /** Its bytes, without the newline. */
  bytes: Buffer;
  /** False for an unfinished line (or, raw, a piece that the next one continues). */
  ended: boolean;
}

export interface LineSource {
  initial(): OutputLine[];
  read(): OutputLine[];
  rest(): OutputLine[];
}

const EMPTY = Buffer.alloc(0);

/** A file's size and modification time, or null when it is missing. */
export function fileState(file: string): { size: number; mtimeMs: number } | null {
  try {
    const st = statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** The bytes of `file` from `start` to `end` (fewer if it shrank meanwhile). */
export function readRange(file: string, start: number, end: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(Math.max(0, end - start));
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The offset where the last `n` lines of a file of `size` bytes start (reads only its tail). */
export function tailStart(file: string, size: number, n: number | null): number {
  if (n === null) return 0;
  if (n === 0 || size === 0) return size;
  const fd = openSync(file, "r");
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    // An unfinished last line counts as a line; a newline ending the file does not start one.
    let newlines = last[0] === 0x0a ? -1 : 0;
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - 64 * 1024);
      const buf = Buffer.alloc(end - start);
      readSync(fd, buf, 0, buf.length, start);
      for (let i = buf.length - 1; i >= 0; i--) if (buf[i] === 0x0a && ++newlines === n) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/** Bytes of a file's start kept to tell a file rotated since (truncated, then grown again) from one that grew. */
const HEAD_BYTES = 64;

/** The complete lines appended to a file since the last look, and the modification time then. */
class AppendedLines {
  private pos = 0;
  private carry: Buffer = EMPTY;
  /** The file's first bytes as last seen (up to HEAD_BYTES). */
  private head: Buffer = EMPTY;
  mtimeMs: number | null = null;

  constructor(readonly file: string) {}

  /** Complete lines from `from` (default: where the last look ended) to the end. */
  next(from?: number): Buffer[] {
    const st = fileState(this.file);
    if (!st) return [];
    if (from !== undefined) this.pos = from;
    if (this.rotated(st.size)) [this.pos, this.carry] = [0, EMPTY];
    if (this.head.length < HEAD_BYTES) this.head = readRange(this.file, 0, Math.min(st.size, HEAD_BYTES));
    if (st.size === this.pos) return [];
    const bytes = readRange(this.file, this.pos, st.size);
    this.pos += bytes.length;
    this.mtimeMs = st.mtimeMs;
    const all = this.carry.length > 0 ? Buffer.concat([this.carry, bytes]) : bytes;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = all.indexOf(10); nl !== -1; nl = all.indexOf(10, start)) {
      lines.push(all.subarray(start, nl));
      start = nl + 1;
    }
    this.carry = Buffer.from(all.subarray(start));
    return lines;
  }

  /** Shorter than where we were, or starting with other bytes than it did: a copytruncate rotation. */
  private rotated(size: number): boolean {
    if (size < this.pos) return true;
    return this.head.length > 0 && !readRange(this.file, 0, this.head.length).equals(this.head);
  }

  /** Whether an unfinished last line is held. */
  get hasCarry(): boolean {
    return this.carry.length > 0;
  }

  /** The unfinished last line, taken. */
  takeCarry(): Buffer {
    const c = this.carry;
    this.carry = EMPTY;
    return c;
  }
}

export interface SourceOptions {
  /** Lines of what is there to give; null for all of it. */
  lines: number | null;
  /** Pieces as written (`--raw`), not joined into lines. */
  raw: boolean;
}

/** output.log: the lines of the streams asked for, each with the time it was written. */
export class TimelineSource implements LineSource {
  private readonly tail: AppendedLines;
  /** Per stream, the pieces of a line still going on. */
  private readonly pending = new Map<Stream, { ms: number | null; parts: Buffer[] }>();

  constructor(file: string, private readonly streams: ReadonlySet<Stream>, private readonly opts: SourceOptions) {
    this.tail = new AppendedLines(file);
  }

  initial(): OutputLine[] {
    const st = fileState(this.tail.file);
    if (!st) return [];
    return this.convert(this.tail.next(this.start(st.size)));
  }

  read(): OutputLine[] {
    return this.convert(this.tail.next());
  }

  rest(): OutputLine[] {
    const carry = this.tail.takeCarry();
    const out = carry.length > 0 ? this.convert([carry]) : [];
    for (const [stream, p] of this.pending) out.push({ ms: p.ms, stream, bytes: Buffer.concat(p.parts), ended: false });
    this.pending.clear();
    return out;
  }

  /** Where to start so that the last `lines` lines of the wanted streams are read (records of the other stream and pieces count too, so look further back until there are enough). */
  private start(size: number): number {
    const n = this.opts.lines;
    if (n === null) return 0;
    if (n === 0) return size;
    for (let records = n + 16; ; records *= 4) {
      const start = tailStart(this.tail.file, size, records);
      if (start === 0) return 0;
      const text = readRange(this.tail.file, start, size);
      let whole = 0;
      for (let at = 0; at < text.length; ) {
        const nl = text.indexOf(10, at);
        const r = parseOutputRecord(text.subarray(at, nl === -1 ? text.length : nl));
        if (r.stream !== null && this.streams.has(r.stream) && !r.continues) whole++;
        at = nl === -1 ? text.length : nl + 1;
      }
      if (whole >= n) return start;
    }
  }

  private convert(records: Buffer[]): OutputLine[] {
    const out: OutputLine[] = [];
    for (const b of records) {
      const r = parseOutputRecord(b);
      if (r.stream === null) {
        out.push({ ms: null, stream: null, bytes: r.bytes, ended: true });
        continue;
      }
      if (!this.streams.has(r.stream)) continue;
      if (this.opts.raw) {
        out.push({ ms: r.ms, stream: r.stream, bytes: r.bytes, ended: !r.continues });
        continue;
      }
      const p = this.pending.get(r.stream) ?? { ms: r.ms, parts: [] };
      p.parts.push(r.bytes);
      if (r.continues) this.pending.set(r.stream, p);
      else {
        this.pending.delete(r.stream);
        // A line is placed, and timed, where it was finished.
        out.push({ ms: r.ms, stream: r.stream, bytes: p.parts.length === 1 ? p.parts[0]! : Buffer.concat(p.parts), ended: true });
      }
    }
    return out;
  }
}

/**
 * One stream's own file. It has no times of its own: a line read as it is appended gets the file's
 * modification time at that read; of what was there already, only the last line (its last byte
 * was the last write).
 */
export class FileSource implements LineSource {
  private readonly tail: AppendedLines;

  constructor(file: string, private readonly stream: Stream, private readonly opts: SourceOptions) {
    this.tail = new AppendedLines(file);
  }

  initial(): OutputLine[] {
    const st = fileState(this.tail.file);
    if (!st) return [];
    const lines = this.tail.next(this.opts.lines === null ? 0 : tailStart(this.tail.file, st.size, this.opts.lines));
    const last = this.tail.hasCarry ? -1 : lines.length - 1;
    return lines.map((bytes, i) => ({ ms: i === last ? st.mtimeMs : null, stream: this.stream, bytes, ended: true }));
  }

  read(): OutputLine[] {
    return this.tail.next().map((bytes) => ({ ms: this.tail.mtimeMs, stream: this.stream, bytes, ended: true }));
  }

  rest(): OutputLine[] {
    const bytes = this.tail.takeCarry();
    return bytes.length > 0 ? [{ ms: this.tail.mtimeMs, stream: this.stream, bytes, ended: false }] : [];
  }
}
