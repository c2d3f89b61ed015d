// `cpwd logs W3 [-f] [--stderr|--both] [-n 100] [--raw] [--timestamps]`: a worker's output from its
// log files. A Claude worker's stdout is rendered as a transcript (cli/format/transcript.ts) unless
// `--raw`. `-f` follows the files (fs.watch, and from the start again after a rotation) across
// restarts of the worker, until it reaches an ended state or Ctrl-C. `--timestamps` starts each line
// with the best time known for it (docs/claude-workers.md says which). With the daemon down the
// worker is found by replaying the record on disk, and what its files hold is printed (no -f).
import { closeSync, openSync, readSync, statSync, watch } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { Writable } from "node:stream";
import { scanLog } from "../../src/eventlog/scan.js";
import { workerDir, type CpwdPaths } from "../../src/platform/paths.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { workerLogFile, workerLogsDir } from "../../src/records/worker-files.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { replayWorkers } from "../../src/workers/replay.js";
import { toView } from "../../src/workers/view.js";
import { parseArgs } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, withDaemon } from "../daemon-client.js";
import { streamLineTime, TranscriptRenderer } from "../format/transcript.js";

const FINAL = new Set(["exited", "failed", "timed_out", "stopped", "fatal"]);
const USAGE = "usage: cpwd logs W3 [-f] [--stderr|--both] [-n 100] [--raw] [--timestamps|-t]";
const DEFAULT_LINES = 100;
/** In place of a time that was not recorded: as wide as an ISO time, so the lines stay aligned. */
const NO_TIME = "-".padEnd(24);

interface LogsOptions {
  target: string;
  /** Lines of what is already there to print; null: 100, or the whole file with --raw. */
  lines: number | null;
  follow: boolean;
  raw: boolean;
  timestamps: boolean;
  streams: Array<"stdout" | "stderr">;
}

/** How one log file is printed. */
interface View {
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
interface Printer {
  pump(): void;
  flush(): void;
}

function parseLogsArgs(argv: string[]): LogsOptions {
  const { flags, positionals } = parseArgs(argv, {
    follow: { kind: "bool", short: "f" },
    stderr: { kind: "bool" },
    both: { kind: "bool" },
    lines: { kind: "string", short: "n" },
    raw: { kind: "bool" },
    timestamps: { kind: "bool", short: "t" },
  });
  if (positionals.length !== 1) throw new Error("name one worker (W3 or a name)");
  const lines = flags.lines === undefined ? null : Number(flags.lines);
  if (lines !== null && (!Number.isSafeInteger(lines) || lines < 0)) throw new Error(`-n must be a whole number ≥ 0 (got ${String(flags.lines)})`);
  return {
    target: positionals[0]!,
    lines,
    follow: flags.follow === true,
    raw: flags.raw === true,
    timestamps: flags.timestamps === true,
    streams: flags.both ? ["stdout", "stderr"] : flags.stderr ? ["stderr"] : ["stdout"],
  };
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

/** Waits until the worker reaches an ended state (or Ctrl-C), printing what its logs gain. */
function follow(client: RpcClient, id: string, logsDir: string, printers: Printer[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const pumpAll = () => printers.forEach((p) => p.pump());
    const watcher = watch(logsDir, pumpAll);
    pumpAll(); // what came between the first read and the watch
    // The worker's state needs asking: the daemon has no push channel for the CLI yet. The
    // daemon commits an end and its restart decision together, so an ended state is final.
    const timer = setInterval(async () => {
      try {
        const r = await client.call("worker.get", { target: id });
        if (FINAL.has(String(r.workers[0]?.state))) finish();
      } catch {
        finish();
      }
    }, 500);
    const finish = () => {
      pumpAll();
      watcher.close();
      clearInterval(timer);
      process.off("SIGINT", finish);
      resolve();
    };
    process.once("SIGINT", finish);
  });
}

export const run: Command = async (argv, ctx) => {
  let opts: LogsOptions;
  try {
    opts = parseLogsArgs(argv);
  } catch (err) {
    writeLine(ctx.stderr, `cpwd logs: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  let reached = false;
  const code = await withDaemon(
    ctx,
    async (client, paths) => {
      reached = true;
      let worker: Record<string, unknown>;
      try {
        const r = await client.call("worker.get", { target: opts.target });
        if (r.workers.length !== 1) throw new Error(`${opts.target} names ${r.workers.length} workers; use an id`);
        worker = r.workers[0]!;
      } catch (err) {
        writeLine(ctx.stderr, `cpwd logs: ${(err as Error).message}`);
        return 1;
      }
      return printLogs(ctx, paths, worker, opts, client);
    },
    { quietWhenDown: true },
  );
  if (reached) return code;
  // The daemon is down: the worker as the record on disk has it, and its files; nothing follows.
  const paths = cliPaths(ctx);
  writeLine(ctx.stderr, `cpwd logs: the daemon is not running (home ${paths.home}); reading the logs on disk${opts.follow ? ", so nothing new will follow" : ""}`);
  const worker = workerOnDisk(paths, opts.target);
  if (!worker) {
    writeLine(ctx.stderr, `cpwd logs: no worker ${opts.target} in the record`);
    return 1;
  }
  return printLogs(ctx, paths, worker, opts, null);
};

/** A worker (an id, or the latest worker of a name) as replaying events.jsonl shows it; null if none. */
function workerOnDisk(paths: CpwdPaths, target: string): Record<string, unknown> | null {
  const events: EventRecord[] = [];
  scanLog(paths.events, (e) => void events.push(e));
  const { workers } = replayWorkers(events);
  const found = workers.get(target) ?? [...workers.values()].filter((w) => w.name === target).at(-1);
  return found ? toView(found, Date.now()) : null;
}

/** Prints the worker's logs, and follows them when asked and a daemon can say when it has ended. */
async function printLogs(ctx: CliContext, paths: CpwdPaths, worker: Record<string, unknown>, opts: LogsOptions, client: RpcClient | null): Promise<number> {
  const id = String(worker.id);
  const dir = workerDir(paths, id);
  const claude = (worker.meta as Record<string, unknown> | undefined)?.kind === "claude";
  const printers = opts.streams.map((stream) => {
    const stdout = stream === "stdout";
    const view: View = { lines: opts.lines, render: claude && stdout && !opts.raw, ownTimes: claude && stdout, timestamps: opts.timestamps, raw: opts.raw };
    const [file, out] = [workerLogFile(dir, stream), stdout ? ctx.stdout : ctx.stderr];
    return view.render || view.timestamps ? new LinePrinter(file, out, view) : bytePrinter(file, out, view);
  });
  if (client && opts.follow && !FINAL.has(String(worker.state))) await follow(client, id, workerLogsDir(dir), printers);
  printers.forEach((p) => p.flush());
  return 0;
}
