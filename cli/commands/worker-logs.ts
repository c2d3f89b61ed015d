// `cpwd logs W3 [-f] [--stderr|--both] [-n 100] [--raw] [--timestamps]`: a worker's output from its
// log files. A Claude worker's stdout is rendered as a transcript (cli/format/transcript.ts) unless
// `--raw`. `-f` follows the files (fs.watch, and from the start again after a rotation) across
// restarts of the worker, until it reaches an ended state or Ctrl-C. `--timestamps` starts each line
// with the best time known for it (docs/claude-workers.md says which). With the daemon down the
// worker is found by replaying the record on disk, and what its files hold is printed (no -f).
// How one file is printed (tail, transcript, times) is cli/log-printers.ts.
import { watch } from "node:fs";
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
import { logPrinter, type Printer, type View } from "../log-printers.js";

const FINAL = new Set(["exited", "failed", "timed_out", "stopped", "fatal"]);
const USAGE = "usage: cpwd logs W3 [-f] [--stderr|--both] [-n 100] [--raw] [--timestamps|-t]";

interface LogsOptions {
  target: string;
  /** Lines of what is already there to print; null: 100, or the whole file with --raw. */
  lines: number | null;
  follow: boolean;
  raw: boolean;
  timestamps: boolean;
  streams: Array<"stdout" | "stderr">;
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
    return logPrinter(file, out, view);
  });
  if (client && opts.follow && !FINAL.has(String(worker.state))) await follow(client, id, workerLogsDir(dir), printers);
  printers.forEach((p) => p.flush());
  return 0;
}
