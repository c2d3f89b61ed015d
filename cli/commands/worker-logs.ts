// `cpwd logs W3|NAME|all… [-f] [--stdout|--stderr|--both] [-n 100] [--raw] [--timestamps]`: workers'
// output from their log files. By default both streams, interleaved in the order written, from
// the worker's output.log (written by its output mux; daemon/runner/output-mux.ts); `--stdout` or
// `--stderr` one stream from its own file; `--both` both in order, each to cpwd's own stream of
// that name. Several workers (or `all`) merge by time, each line prefixed by its worker, as
// `pm2 logs` does. A Claude worker's stdout is rendered as a transcript (cli/format/transcript.ts)
// unless `--raw`. `-f` follows across restarts until every worker has ended for good
// (cli/log-follow.ts), then says how each ended and exits with a status that reflects it. With the
// daemon down the workers are found by replaying the record on disk, and what their files hold is
// printed (nothing follows). How lines are read and printed: cli/log-sources.ts, cli/log-printers.ts.
import { existsSync, statSync } from "node:fs";
import { workerDir, type CpwdPaths } from "../../src/platform/paths.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import { workerLogFile, workerOutputFile } from "../../src/records/worker-files.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { toView } from "../../src/workers/view.js";
import { parseArgs } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, withDaemon } from "../daemon-client.js";
import { outputMuxInstalled } from "../../daemon/runner/output-mux.js";
import { LogFollower } from "../log-follow.js";
import { namedWorkers, readRecordWorkers, recordGapsWarning } from "../record-state.js";
import { DEFAULT_LINES, logPrinter, MergedPrinter, type Entry, type Printer, type View } from "../log-printers.js";
import { FileSource, TimelineSource, type Stream } from "../log-sources.js";

const USAGE = "usage: cpwd logs W3|NAME|all [W4…] [-f] [--stdout|--stderr|--both] [-n 100] [--raw] [--timestamps|-t]  (-f exits 0 when all exited 0; 4 failed, 5 timed out, 6 stopped, 7 fatal: the largest)";

interface LogsOptions {
  targets: string[];
  /** Lines of what is already there to print; null: 100, or the whole file with --raw. */
  lines: number | null;
  follow: boolean;
  raw: boolean;
  timestamps: boolean;
  streams: Stream[];
  /** --both: the worker's stderr lines go to cpwd's stderr (and so do --stderr's). */
  split: boolean;
}

function parseLogsArgs(argv: string[]): LogsOptions {
  const { flags, positionals } = parseArgs(argv, {
    follow: { kind: "bool", short: "f" },
    stdout: { kind: "bool" },
    stderr: { kind: "bool" },
    both: { kind: "bool" },
    lines: { kind: "string", short: "n" },
    raw: { kind: "bool" },
    timestamps: { kind: "bool", short: "t" },
  });
  if (positionals.length === 0) throw new Error("name a worker (W3, a name, or all)");
  if ([flags.stdout, flags.stderr, flags.both].filter(Boolean).length > 1) throw new Error("choose one of --stdout, --stderr and --both");
  const lines = flags.lines === undefined ? null : Number(flags.lines);
  if (lines !== null && (!Number.isSafeInteger(lines) || lines < 0)) throw new Error(`-n must be a whole number ≥ 0 (got ${String(flags.lines)})`);
  if (flags.raw && (positionals.length > 1 || positionals[0] === "all")) throw new Error("--raw shows one worker's bytes as written: name one worker");
  return {
    targets: positionals,
    lines,
    follow: flags.follow === true,
    raw: flags.raw === true,
    timestamps: flags.timestamps === true,
    // --raw alone is stdout's bytes (a Claude worker's stream-json, as it was written).
    streams: flags.stdout || (flags.raw && !flags.both && !flags.stderr) ? ["stdout"] : flags.stderr ? ["stderr"] : ["stdout", "stderr"],
    split: flags.both === true || flags.stderr === true,
  };
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
      let workers: WorkerView[];
      try {
        workers = await workersOf(client, opts.targets);
      } catch (err) {
        writeLine(ctx.stderr, `cpwd logs: ${(err as Error).message}`);
        return 1;
      }
      return showLogs(ctx, paths, workers, opts, client);
    },
    { quietWhenDown: true },
  );
  if (reached) return code;
  // The daemon is down: the workers as the record on disk has them, and their files; nothing follows.
  const paths = cliPaths(ctx);
  writeLine(ctx.stderr, `cpwd logs: the daemon is not running (home ${paths.home}); reading the logs on disk${opts.follow ? ", so nothing new will follow" : ""}`);
  const workers = await workersOnDisk(ctx, paths, opts.targets);
  if (workers.length === 0) {
    writeLine(ctx.stderr, `cpwd logs: no worker ${opts.targets.join(", ")} in the record`);
    return 1;
  }
  return showLogs(ctx, paths, workers, opts, null);
};

/** The workers the targets name, each once, in the order named (`all`: every one, by id). */
async function workersOf(client: RpcClient, targets: string[]): Promise<WorkerView[]> {
  const found = new Map<string, WorkerView>();
  for (const target of targets) {
    const r = target === "all" ? await client.call("worker.list") : await client.call("worker.get", { target });
    for (const w of r.workers as unknown as WorkerView[]) found.set(w.id, w);
  }
  return [...found.values()];
}

/** The workers the targets name as the whole record on disk has them (a name: each worker of it). */
async function workersOnDisk(ctx: CliContext, paths: CpwdPaths, targets: string[]): Promise<WorkerView[]> {
  const { state, fold } = await readRecordWorkers(paths.events);
  const warning = recordGapsWarning("logs", fold.gaps);
  if (warning) writeLine(ctx.stderr, warning);
  return namedWorkers(state, targets).map((w) => toView(w, Date.now()));
}

/** "W3 api   | ": as wide as the widest of them. */
function prefixes(workers: WorkerView[]): string[] {
  const labels = workers.map((w) => (w.name ? `${w.id} ${w.name}` : w.id));
  const width = Math.max(...labels.map((l) => l.length));
  return labels.map((l) => `${l.padEnd(width)} | `);
}

function nonEmpty(file: string): boolean {
  try {
    return statSync(file).size > 0;
  } catch {
    return false;
  }
}

/** The sources of one worker's lines: its output.log, else (no output mux) each stream's own file. */
function entriesFor(ctx: CliContext, paths: CpwdPaths, w: WorkerView, opts: LogsOptions, prefix: string): Entry[] {
  const dir = workerDir(paths, w.id);
  const claude = w.meta?.kind === "claude";
  const view: View = { lines: opts.lines, render: claude && !opts.raw, ownTimes: claude, timestamps: opts.timestamps, raw: opts.raw };
  // A transcript reads everything, so each result finds its call; -n counts the lines printed.
  const source = { lines: view.render ? null : (opts.lines ?? (opts.raw ? null : DEFAULT_LINES)), raw: opts.raw };
  const base = { view, prefix, out: ctx.stdout, err: opts.split ? ctx.stderr : ctx.stdout };
  const timeline = workerOutputFile(dir);
  const [stdout, stderr] = [nonEmpty(workerLogFile(dir, "stdout")), nonEmpty(workerLogFile(dir, "stderr"))];
  // A worker yet to print (or to start) will have an output.log if the daemon runs the mux.
  const muxed = existsSync(timeline) || (!stdout && !stderr && outputMuxInstalled(paths.home));
  if (muxed) return [{ ...base, source: new TimelineSource(timeline, new Set(opts.streams), source) }];
  if (opts.streams.length === 2 && stdout && stderr) {
    writeLine(ctx.stderr, `cpwd logs: ${w.id} ran without the output mux (no perl, or outputMux false), so its stdout and stderr are not in the order written`);
  }
  return opts.streams.map((stream) => ({ ...base, source: new FileSource(workerLogFile(dir, stream), stream, source) }));
}

/** Prints the workers' logs, and follows them when asked and a daemon can say when they have ended. */
async function showLogs(ctx: CliContext, paths: CpwdPaths, workers: WorkerView[], opts: LogsOptions, client: RpcClient | null): Promise<number> {
  const many = workers.length > 1 || opts.targets.includes("all");
  if (workers.length === 0) writeLine(ctx.stderr, `cpwd logs: no workers${opts.follow ? "; following: workers spawned from now on will show" : ""}`);
  let printer: Printer;
  /** Starts printing a worker that joins while following (`all`). */
  let join = (_w: WorkerView): void => {};
  // One stream of one worker: its own file, byte for byte unless rendered; timed, from output.log if there is one.
  const single = !many && opts.streams.length === 1 ? workers[0] : undefined;
  if (single && !(opts.timestamps && !opts.raw && existsSync(workerOutputFile(workerDir(paths, single.id))))) {
    const claude = single.meta?.kind === "claude";
    const stream = opts.streams[0]!;
    const view: View = { lines: opts.lines, render: claude && stream === "stdout" && !opts.raw, ownTimes: claude && stream === "stdout", timestamps: opts.timestamps, raw: opts.raw };
    printer = logPrinter(workerLogFile(workerDir(paths, single.id), stream), stream, stream === "stdout" ? ctx.stdout : ctx.stderr, view);
  } else {
    const labels = many ? prefixes(workers) : [""];
    const merged = new MergedPrinter(workers.flatMap((w, i) => entriesFor(ctx, paths, w, opts, labels[i]!)), opts.lines ?? (opts.raw ? null : DEFAULT_LINES));
    printer = merged;
    // All it has written, under a label of its own width.
    join = (w) => entriesFor(ctx, paths, w, { ...opts, lines: null }, prefixes([w])[0]!).forEach((e) => merged.add(e));
  }
  if (!client || !opts.follow) {
    printer.flush();
    return 0;
  }
  const follower = new LogFollower(ctx, client, paths, { pump: () => printer.pump(), add: join }, opts.targets.includes("all"));
  const code = await follower.run(workers);
  printer.flush();
  return code;
}
