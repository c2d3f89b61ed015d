// Printing a worker's logs for `cpwd logs`: its last lines, then (pump) what is appended, either
// one file byte for byte, or line by line from one or more sources (cli/log-sources.ts), merged by
// time across workers, as a Claude transcript and/or with each line's time and worker. Both read a
// chunk at a time and write as they go: a log of any size is printed in bounded memory.
import type { Writable } from "node:stream";
import { streamLineTime, TranscriptRenderer } from "./format/transcript.js";
import { copyRange, fileState, FileSource, tailStart, type LineSource, type OutputLine, type Stream } from "./log-sources.js";

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
    let lastByte: number | undefined;
    copyRange(file, tailStart(file, st.size, view.lines ?? (view.raw ? null : DEFAULT_LINES)), st.size, (chunk) => {
      out.write(chunk);
      lastByte = chunk[chunk.length - 1];
    });
    if (!view.raw && lastByte !== undefined && lastByte !== 0x0a) out.write("\n");
  }
  return {
    pump() {
      const now = fileState(file);
      if (!now) return;
      if (now.size < pos) pos = 0; // rotated (copytruncate)
      if (now.size === pos) return;
      pos += copyRange(file, pos, now.size, (chunk) => out.write(chunk));
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

/** A line read, and the time it is merged by. */
interface Keyed {
  i: number;
  line: OutputLine;
  key: number;
}

/** Lines printed are written in runs of up to this many. */
const WRITE_RUN = 1024;

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
    this.merge((s) => s.initial(), lines);
  }

  /** Adds a worker (one that appeared while following): prints what it has, then follows it too. */
  add(entry: Entry): void {
    this.entries.push(entry);
    this.formatters.push(new WorkerFormatter(entry));
    this.lastMs.push(0);
    const i = this.entries.length - 1;
    this.merge((s, at) => (at === i ? s.initial() : null), null);
  }

  pump(): void {
    this.merge((s) => s.read(), null);
  }

  flush(): void {
    const lines = this.entries.flatMap((entry, i) => this.keyed(i, entry.source.rest()));
    lines.sort((a, b) => a.key - b.key);
    this.write(lines.flatMap(({ i, line }) => this.formatters[i]!.format(line)));
  }

  /**
   * Prints what `take` gives of each entry, merged by time: each source's lines come in order, a
   * chunk's read at a time, and the earliest line of those read goes next (a tie: the first
   * entry's), as a sort of them all would put them, without holding them all. With `keep`, only
   * the last `keep` lines printed (held meanwhile; no more than that many and a run of writes).
   */
  private merge(take: (s: LineSource, i: number) => OutputLine[] | null, keep: number | null): void {
    const queues = this.entries.map(() => ({ lines: [] as Keyed[], at: 0, open: true }));
    let printed: Printed[] = [];
    for (;;) {
      let next: Keyed | undefined;
      for (const [i, q] of queues.entries()) {
        while (q.open && q.at === q.lines.length) {
          const batch = take(this.entries[i]!.source, i);
          if (batch === null) q.open = false;
          else [q.lines, q.at] = [this.keyed(i, batch), 0];
        }
        const head = q.lines[q.at];
        if (head && (!next || head.key < next.key)) next = head;
      }
      if (!next) break;
      queues[next.i]!.at++;
      // Formatted even when not kept: a transcript's later lines need the calls in earlier ones.
      const lines = this.formatters[next.i]!.format(next.line);
      if (keep === 0) continue;
      printed.push(...lines);
      if (printed.length < WRITE_RUN) continue;
      if (keep === null) this.write(printed.splice(0));
      else if (printed.length >= keep + WRITE_RUN) printed = printed.slice(-keep);
    }
    this.write(keep === null ? printed : keep === 0 ? [] : printed.slice(-keep));
  }

  /** An entry's lines with the times they merge by: their own, or the latest before (a key never goes back). */
  private keyed(i: number, lines: OutputLine[]): Keyed[] {
    return lines.map((line) => {
      this.lastMs[i] = Math.max(this.lastMs[i]!, line.ms ?? 0);
      return { i, line, key: this.lastMs[i]! };
    });
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
