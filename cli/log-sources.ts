// Where `cpwd logs` reads a worker's lines: its output.log (both streams in the order written, each
// line with its time; src/records/output-log.ts) or one stream's own file (stdout.log, stderr.log:
// for one stream, and for a worker that ran without the output mux). A source gives what is there
// (`initial`), then what is appended (`read`), then an unfinished last line (`rest`), the first two
// a chunk's read (CHUNK_BYTES) at a time, so a log of any size is printed in bounded memory. A file
// that shrank was rotated (copytruncate): it is read from its start again.
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

/** Where a worker's lines come from. Called until null, each call reads at most CHUNK_BYTES. */
export interface LineSource {
  /** The next lines of what the file held when first asked (from its last lines asked for); null once all are given. */
  initial(): OutputLine[] | null;
  /** The next lines appended since; null when there is nothing more to read for now. */
  read(): OutputLine[] | null;
  /** The unfinished lines held. */
  rest(): OutputLine[];
}

/** The most read from a log at once: a log is printed a chunk at a time, never read whole. */
export const CHUNK_BYTES = 1024 * 1024;

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

/** The bytes of `file` from `start` to `end` (fewer if it shrank meanwhile); callers keep the range to a chunk. */
function readRange(file: string, start: number, end: number): Buffer {
  const fd = openSync(file, "r");
  try {
    return readAt(fd, start, end);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, end - start));
  const n = readSync(fd, buf, 0, buf.length, start);
  return buf.subarray(0, n);
}

/** Passes the bytes of `file` from `start` to `end` to `write`, a chunk at a time; returns how many there were. */
export function copyRange(file: string, start: number, end: number, write: (chunk: Buffer) => void): number {
  const fd = openSync(file, "r");
  try {
    let at = start;
    while (at < end) {
      const chunk = readAt(fd, at, Math.min(end, at + CHUNK_BYTES));
      if (chunk.length === 0) break; // it shrank meanwhile
      write(chunk);
      at += chunk.length;
    }
    return at - start;
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of `file` up to `size`, last first, each with its offset, read backwards a chunk at a
 * time: memory for a chunk and the longest line. An unfinished last line is one; a newline ending
 * the file does not start one.
 */
export function* linesBackward(file: string, size: number): Generator<{ at: number; bytes: Buffer }> {
  if (size <= 0) return;
  const fd = openSync(file, "r");
  try {
    // The line being looked at ends at lineEnd; `later` holds its bytes read so far, from the
    // chunk after the one being read up to lineEnd.
    let lineEnd = size;
    let later: Buffer = EMPTY;
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const buf = readAt(fd, start, end);
      for (let i = buf.length - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (start + i + 1 < size) {
          const own = buf.subarray(i + 1, Math.min(buf.length, lineEnd - start));
          yield { at: start + i + 1, bytes: later.length > 0 ? Buffer.concat([own, later]) : own };
        }
        lineEnd = start + i;
        later = EMPTY;
      }
      const own = buf.subarray(0, lineEnd - start);
      later = later.length > 0 ? Buffer.concat([own, later]) : Buffer.from(own);
      lineEnd = start;
      end = start;
    }
    yield { at: 0, bytes: later };
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
  /** Where the lines being appended() are read to; null between rounds. */
  private appendedEnd: number | null = null;

  constructor(readonly file: string) {}

  /** Where the next look starts. */
  get position(): number {
    return this.pos;
  }

  /** Makes the next look start at `pos`. */
  seek(pos: number): void {
    this.pos = pos;
  }

  /**
   * The complete lines in the next CHUNK_BYTES from where the last look ended, read no further
   * than `end`; null when there is nothing to read before it.
   */
  next(end: number): Buffer[] | null {
    const st = fileState(this.file);
    if (!st) return null;
    if (this.rotated(st.size)) [this.pos, this.carry] = [0, EMPTY];
    if (this.head.length < HEAD_BYTES) this.head = readRange(this.file, 0, Math.min(st.size, HEAD_BYTES));
    const to = Math.min(st.size, end, this.pos + CHUNK_BYTES);
    if (to <= this.pos) return null;
    const bytes = readRange(this.file, this.pos, to);
    if (bytes.length === 0) return null;
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

  /**
   * Like next(), up to the file's size when this round began (the first call after a null): a log
   * written faster than it is printed must not keep the reader from everything else for ever.
   */
  appended(): Buffer[] | null {
    this.appendedEnd ??= fileState(this.file)?.size ?? 0;
    const lines = this.next(this.appendedEnd);
    if (lines === null) this.appendedEnd = null;
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
  /** Where what the file held when first asked ends; null until then. */
  private initialEnd: number | null = null;

  constructor(file: string, private readonly streams: ReadonlySet<Stream>, private readonly opts: SourceOptions) {
    this.tail = new AppendedLines(file);
  }

  initial(): OutputLine[] | null {
    if (this.initialEnd === null) {
      this.initialEnd = fileState(this.tail.file)?.size ?? 0;
      this.tail.seek(this.start(this.initialEnd));
    }
    const records = this.tail.next(this.initialEnd);
    return records && this.convert(records);
  }

  read(): OutputLine[] | null {
    const records = this.tail.appended();
    return records && this.convert(records);
  }

  rest(): OutputLine[] {
    const carry = this.tail.takeCarry();
    const out = carry.length > 0 ? this.convert([carry]) : [];
    for (const [stream, p] of this.pending) out.push({ ms: p.ms, stream, bytes: Buffer.concat(p.parts), ended: false });
    this.pending.clear();
    return out;
  }

  /**
   * Where to start so that the last `lines` lines of the wanted streams are read whole: records of
   * the other stream and pieces of lines count for nothing, so the records are read backwards (a
   * chunk at a time, however far back the lines are) until there are enough, and on until no
   * wanted stream's line is cut, i.e. the record of each before the start ends a line.
   */
  private start(size: number): number {
    const n = this.opts.lines;
    if (n === null) return 0;
    if (n === 0) return size;
    let whole = 0;
    let start = -1;
    /** Streams whose record before `start` has not been seen yet. */
    let unseen = new Set<Stream>();
    for (const { at, bytes } of linesBackward(this.tail.file, size)) {
      const r = parseOutputRecord(bytes);
      if (r.stream === null || !this.streams.has(r.stream)) continue;
      if (start === -1) {
        if (!r.continues && ++whole === n) [start, unseen] = [at, new Set(this.streams)];
      } else if (unseen.has(r.stream)) {
        // A piece: the start cuts its line, so it goes back to the piece, and the records before it are looked for again.
        if (r.continues) [start, unseen] = [at, new Set(this.streams)];
        else unseen.delete(r.stream);
      }
      if (start !== -1 && unseen.size === 0) return start;
    }
    return start === -1 ? 0 : start;
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
  /** The file's size and modification time when first asked; null until then. */
  private initialState: { size: number; mtimeMs: number | null } | null = null;

  constructor(file: string, private readonly stream: Stream, private readonly opts: SourceOptions) {
    this.tail = new AppendedLines(file);
  }

  initial(): OutputLine[] | null {
    if (this.initialState === null) {
      const st = fileState(this.tail.file);
      this.initialState = st ?? { size: 0, mtimeMs: null };
      if (st && this.opts.lines !== null) this.tail.seek(tailStart(this.tail.file, st.size, this.opts.lines));
    }
    const { size, mtimeMs } = this.initialState;
    const lines = this.tail.next(size);
    if (lines === null) return null;
    const last = this.tail.position >= size && !this.tail.hasCarry ? lines.length - 1 : -1;
    return lines.map((bytes, i) => ({ ms: i === last ? mtimeMs : null, stream: this.stream, bytes, ended: true }));
  }

  read(): OutputLine[] | null {
    return this.tail.appended()?.map((bytes) => ({ ms: this.tail.mtimeMs, stream: this.stream, bytes, ended: true })) ?? null;
  }

  rest(): OutputLine[] {
    const bytes = this.tail.takeCarry();
    return bytes.length > 0 ? [{ ms: this.tail.mtimeMs, stream: this.stream, bytes, ended: false }] : [];
  }
}
