// Printing one log file of a worker for `cpwd logs`: its last lines, then (pump) what is appended,
// either byte for byte or line by line — as a Claude transcript and/or with each line's time.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Writable } from "node:stream";
import { streamLineTime, TranscriptRenderer } from "./format/transcript.js";

/** Lines printed of what is already there when `-n` is not given (and not --raw). */
const DEFAULT_LINES = 100;
/** In place of a time that was not recorded: as wide as an ISO time, so the lines stay aligned. */
const NO_TIME = "-".padEnd(24);

/** How one log file is printed. */
export interface View {
  /** Lines to print of what is already there; null for all of it. */
  lines: number | null;
  /** As a Claude transcript. */
  render: boolean;
  /** Its lines may carry their own time (a Claude worker's stream-json). */
  ownTimes: boolean;
  timestamps: boolean;
  /** Exactly the bytes (no newline added after an unfinished last line). */
  raw: boolean;
}

/** One log file being printed: what is there, then (pump) what is appended, then the rest (flush). */
export interface Printer {
  pump(): void;
  flush(): void;
}

/** A file's size and modification time, or null when it is missing. */
function fileState(file: string): { size: number; mtimeMs: number } | null {
  try {
    const st = statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** The bytes of `file` from `start` to `end` (fewer if it shrank meanwhile). */
function readRange(file: string, start: number, end: number): Buffer {
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
function tailStart(file: string, size: number, n: number | null): number {
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

/** Prints a log byte for byte: its last lines, then what is appended. */
function bytePrinter(file: string, out: Writable, view: View): Printer {
  const st = fileState(file);
  let pos = st?.size ?? 0;
  if (st) {
    const text = readRange(file, tailStart(file, st.size, view.lines ?? (view.raw ? null : DEFAULT_LINES)), st.size);
    out.write(text);
    if (!view.raw && text.length > 0 && text[text.length - 1] !== 0x0a) out.write("\n");
  }
  return {
    pump() {
      const now = fileState(file);
      if (!now) return;
      if (now.size < pos) pos = 0; // rotated (copytruncate)
      if (now.size === pos) return;
      const bytes = readRange(file, pos, now.size);
      pos += bytes.length;
      out.write(bytes);
    },
    flush() {},
  };
}

/** Turns a log's lines into the lines printed: as a transcript or as they are, timed or not. */
class LineFormatter {
  private readonly renderer: TranscriptRenderer | null;

  constructor(private readonly view: View) {
    this.renderer = view.render ? new TranscriptRenderer() : null;
  }

  /** `writtenMs`: when the line was written, if known, for a line without a time of its own. */
  format(line: string, writtenMs: number | null): string[] {
    const texts = this.renderer ? this.renderer.push(line) : [line];
    if (!this.view.timestamps || texts.length === 0) return texts;
    const ms = (this.view.ownTimes ? streamLineTime(line) : null) ?? writtenMs;
    const stamp = ms === null ? NO_TIME : new Date(ms).toISOString();
    return texts.map((t) => `${stamp} ${t}`);
  }
}

/**
 * Prints a log line by line through a LineFormatter. A transcript reads the whole file, so each
 * result finds its call, and `-n` counts the lines printed. Times: a line read as it is appended
 * gets the file's modification time at that read; of what was there already, only the last line
 * (its last byte was the last write).
 */
class LinePrinter implements Printer {
  private readonly fmt: LineFormatter;
  private readonly decoder = new StringDecoder("utf8");
  private pos = 0;
  private carry = "";
  private lastWriteMs: number | null = null;

  constructor(private readonly file: string, private readonly out: Writable, view: View) {
    this.fmt = new LineFormatter(view);
    const st = fileState(file);
    if (!st) return;
    const n = view.lines ?? DEFAULT_LINES;
    const lines = this.split(readRange(file, view.render ? 0 : tailStart(file, st.size, n), st.size));
    this.pos = st.size;
    this.lastWriteMs = st.mtimeMs;
    const last = this.carry === "" ? lines.length - 1 : -1;
    const printed = lines.flatMap((l, i) => this.fmt.format(l, i === last ? st.mtimeMs : null));
    this.write(n === 0 ? [] : printed.slice(-n));
  }

  pump(): void {
    const st = fileState(this.file);
    if (!st) return;
    if (st.size < this.pos) this.pos = 0; // rotated (copytruncate)
    if (st.size === this.pos) return;
    const bytes = readRange(this.file, this.pos, st.size);
    this.pos += bytes.length;
    this.lastWriteMs = st.mtimeMs;
    this.write(this.split(bytes).flatMap((l) => this.fmt.format(l, st.mtimeMs)));
  }

  /** Prints an unfinished last line, as it stands. */
  flush(): void {
    const rest = this.carry + this.decoder.end();
    this.carry = "";
    if (rest !== "") this.write(this.fmt.format(rest, this.lastWriteMs));
  }

  private split(bytes: Buffer): string[] {
    const parts = (this.carry + this.decoder.write(bytes)).split("\n");
    this.carry = parts.pop() ?? "";
    return parts;
  }

  private write(lines: string[]): void {
    if (lines.length > 0) this.out.write(`${lines.join("\n")}\n`);
  }
}

/** The printer a view needs: line by line to render or time lines, else byte for byte. */
export function logPrinter(file: string, out: Writable, view: View): Printer {
  return view.render || view.timestamps ? new LinePrinter(file, out, view) : bytePrinter(file, out, view);
}
