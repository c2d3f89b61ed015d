// Printing a worker's logs for `cpwd logs`: its last lines, then (pump) what is appended, either
// one file byte for byte, or line by line from one or more sources (cli/log-sources.ts), merged by
// time across workers, as a Claude transcript and/or with each line's time and worker.
import type { Writable } from "node:stream";
import { streamLineTime, TranscriptRenderer } from "./format/transcript.js";
import { fileState, FileSource, readRange, tailStart, type LineSource, type OutputLine, type Stream } from "./log-sources.js";

/** Lines printed of what is already there when `-n` is not given (and not --raw). */
export const DEFAULT_LINES = 100;
/** In place of a time that was not recorded: as wide as an ISO time, so the lines stay aligned. */
export const NO_TIME = "-".padEnd(24);

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

  /** `prefix` goes before each line, after its time (several workers: `W3 api | `). */
  constructor(private readonly view: Pick<View, "render" | "ownTimes" | "timestamps">, private readonly prefix = "") {
    this.renderer = view.render ? new TranscriptRenderer() : null;
  }

  /** `writtenMs`: when the line was written, if known, for a line without a time of its own. */
  format(line: string, writtenMs: number | null): string[] {
    const texts = (this.renderer ? this.renderer.push(line) : [line]).map((t) => this.prefix + t);
    if (!this.view.timestamps || texts.length === 0) return texts;
    const ms = (this.view.ownTimes ? streamLineTime(line) : null) ?? writtenMs;
    const stamp = ms === null ? NO_TIME : new Date(ms).toISOString();
    return texts.map((t) => `${stamp} ${t}`);
  }
}

/** One worker's lines, how they are printed, and where: its stdout lines to `out`, stderr lines to `err`. */
export interface Entry {
  source: LineSource;
  view: View;
  /** Put before each line printed (several workers): `W3 api | `. */
  prefix: string;
  out: Writable;
  err: Writable;
}

/** What one line of a worker becomes: text (or, raw, bytes) for one of the outputs. */
type Printed = [Writable, string | Buffer];

/** Formats the lines of one worker: its stdout as the view says (a transcript, say), the rest as they are. */
class WorkerFormatter {
  private readonly stdout: LineFormatter;
  private readonly other: LineFormatter;

  constructor(private readonly entry: Entry) {
    this.stdout = new LineFormatter(entry.view, entry.prefix);
    this.other = new LineFormatter({ render: false, ownTimes: false, timestamps: entry.view.timestamps }, entry.prefix);
  }

  format(line: OutputLine): Printed[] {
    const to = line.stream === "stderr" ? this.entry.err : this.entry.out;
    if (this.entry.view.raw) return [[to, line.ended ? Buffer.concat([line.bytes, NEWLINE]) : line.bytes]];
    const fmt = line.stream === "stdout" ? this.stdout : this.other;
    return fmt.format(line.bytes.toString("utf8"), line.ms).map((t) => [to, `${t}\n`]);
  }
}

const NEWLINE = Buffer.from("\n");

/**
 * Prints the lines of one or more workers merged in the order they were written: the last `lines`
 * of what is there, then (pump) what is appended, then (flush) unfinished lines. Lines of one
 * source keep their order; across sources they go by time (a line without one takes the time of
 * the line before it in its source).
 */
export class MergedPrinter implements Printer {
  private readonly formatters: WorkerFormatter[];
  /** Per entry, the latest time seen: its lines' sort key never goes back. */
  private readonly lastMs: number[];

  constructor(private readonly entries: Entry[], lines: number | null) {
    this.formatters = entries.map((e) => new WorkerFormatter(e));
    this.lastMs = entries.map(() => 0);
    const printed = this.format((s) => s.initial());
    this.write(lines === null ? printed : lines === 0 ? [] : printed.slice(-lines));
  }

  /** Adds a worker (one that appeared while following): prints what it has, then follows it too. */
  add(entry: Entry): void {
    this.entries.push(entry);
    this.formatters.push(new WorkerFormatter(entry));
    this.lastMs.push(0);
    const i = this.entries.length - 1;
    this.write(this.format((s, at) => (at === i ? s.initial() : [])));
  }

  pump(): void {
    this.write(this.format((s) => s.read()));
  }

  flush(): void {
    this.write(this.format((s) => s.rest()));
  }

  private format(take: (s: LineSource, i: number) => OutputLine[]): Printed[] {
    const lines = this.entries.flatMap((entry, i) =>
      take(entry.source, i).map((line) => {
        this.lastMs[i] = Math.max(this.lastMs[i]!, line.ms ?? 0);
        return { i, line, key: this.lastMs[i]! };
      }),
    );
    lines.sort((a, b) => a.key - b.key);
    return lines.flatMap(({ i, line }) => this.formatters[i]!.format(line));
  }

  /** Writes in order, each run of text for one output in one write. */
  private write(printed: Printed[]): void {
    for (let i = 0; i < printed.length; ) {
      const to = printed[i]![0];
      let j = i;
      while (j < printed.length && printed[j]![0] === to) j++;
      const run = printed.slice(i, j).map((p) => p[1]);
      to.write(run.every((x) => typeof x === "string") ? run.join("") : Buffer.concat(run.map((x) => (typeof x === "string" ? Buffer.from(x) : x))));
      i = j;
    }
  }
}

/** The printer a view needs: line by line to render or time lines, else byte for byte. */
export function logPrinter(file: string, stream: Stream, out: Writable, view: View): Printer {
  if (!view.render && !view.timestamps) return bytePrinter(file, out, view);
  // A transcript reads the whole file, so each result finds its call; `-n` counts the lines printed.
  const n = view.lines ?? DEFAULT_LINES;
  const source = new FileSource(file, stream, { lines: view.render ? null : n, raw: false });
  return new MergedPrinter([{ source, view, prefix: "", out, err: out }], n);
}
