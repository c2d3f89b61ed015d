// `cpwd logs W3 [-f] [--stderr|--both] [-n 100]`: a worker's output from its log files. `-f`
// follows the files (fs.watch, and from the start again after a rotation) across restarts of the
// worker, until it reaches an ended state or Ctrl-C.
import { closeSync, openSync, readSync, statSync, watch } from "node:fs";
import type { Writable } from "node:stream";
import { workerDir } from "../../src/platform/paths.js";
import { workerLogFile, workerLogsDir } from "../../src/records/worker-files.js";
import { parseArgs } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";

const FINAL = new Set(["exited", "failed", "timed_out", "stopped", "fatal"]);

/** The last `n` lines of a file (reads only its tail). Returns the text and the file size. */
function tail(file: string, n: number): { text: string; size: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { text: "", size: 0 };
  }
  const fd = openSync(file, "r");
  try {
    let start = size;
    let text = "";
    while (start > 0) {
      const len = Math.min(64 * 1024, start);
      start -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, start);
      text = buf.toString("utf8") + text;
      if (text.split("\n").length > n + 1) break;
    }
    const lines = text.split("\n");
    const keep = lines.slice(-(n + (text.endsWith("\n") ? 1 : 0)));
    return { text: n === 0 ? "" : keep.join("\n"), size };
  } finally {
    closeSync(fd);
  }
}

/** Follows one file from `offset`, writing what appears to `out`. */
function follower(file: string, offset: number, out: Writable): () => void {
  let pos = offset;
  return () => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size < pos) pos = 0; // rotated (copytruncate)
    if (size === pos) return;
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(size - pos);
      const n = readSync(fd, buf, 0, buf.length, pos);
      pos += n;
      out.write(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  };
}

export const run: Command = async (argv, ctx) => {
  let flags: Record<string, unknown>;
  let target: string;
  let lines: number;
  try {
    const parsed = parseArgs(argv, { follow: { kind: "bool", short: "f" }, stderr: { kind: "bool" }, both: { kind: "bool" }, lines: { kind: "string", short: "n" } });
    if (parsed.positionals.length !== 1) throw new Error("name one worker (W3 or a name)");
    flags = parsed.flags;
    target = parsed.positionals[0]!;
    lines = flags.lines === undefined ? 100 : Number(flags.lines);
    if (!Number.isSafeInteger(lines) || lines < 0) throw new Error(`-n must be a whole number ≥ 0 (got ${String(flags.lines)})`);
  } catch (err) {
    writeLine(ctx.stderr, `cpwd logs: ${(err as Error).message}\nusage: cpwd logs W3 [-f] [--stderr|--both] [-n 100]`);
    return 2;
  }
  return withDaemon(ctx, async (client, paths) => {
    let worker: Record<string, unknown>;
    try {
      const r = await client.call("worker.get", { target });
      if (r.workers.length !== 1) throw new Error(`${target} names ${r.workers.length} workers; use an id`);
      worker = r.workers[0]!;
    } catch (err) {
      writeLine(ctx.stderr, `cpwd logs: ${(err as Error).message}`);
      return 1;
    }
    const id = String(worker.id);
    const dir = workerDir(paths, id);
    const streams: Array<["stdout" | "stderr", Writable]> = flags.both
      ? [["stdout", ctx.stdout], ["stderr", ctx.stderr]]
      : flags.stderr
        ? [["stderr", ctx.stderr]]
        : [["stdout", ctx.stdout]];
    const pumps = streams.map(([stream, out]) => {
      const file = workerLogFile(dir, stream);
      const t = tail(file, lines);
      if (t.text) out.write(t.text.endsWith("\n") ? t.text : `${t.text}\n`);
      return follower(file, t.size, out);
    });
    if (!flags.follow || FINAL.has(String(worker.state))) return 0;
    await new Promise<void>((resolve) => {
      const watcher = watch(workerLogsDir(dir), () => pumps.forEach((p) => p()));
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
        pumps.forEach((p) => p());
        watcher.close();
        clearInterval(timer);
        process.off("SIGINT", finish);
        resolve();
      };
      process.once("SIGINT", finish);
    });
    return 0;
  });
};
