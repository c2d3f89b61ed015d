// `cpwd start`: starts the daemon detached (its own session, stdio to daemon.log) and returns once
// it answers `ping`; a no-op with exit 0 when one already runs. The process started is the
// daemon's own entry, `node dist/daemon/main.js`, not `cpwd daemon`: none of the CLI sits in it.
import { spawn } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { probeDaemon } from "../../src/rpc/probe.js";
import { usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { DAEMON_NODE_FLAGS, daemonEntryOf } from "../service/spec.js";

export const run: Command = async (argv, ctx) => {
  const timeoutMs = Number(ctx.env.CPWD_START_TIMEOUT_MS ?? 10_000);
  if (argv.length > 0) throw usageError(`takes no arguments (got ${argv.join(" ")})`);
  const paths = cliPaths(ctx);
  const running = await probeDaemon(paths.socket);
  if (running) {
    writeLine(ctx.stdout, `cpwd daemon already running (pid ${running.pid})`);
    return 0;
  }
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const out = openSync(paths.daemonLog, "a", 0o600);
  // Where this start's output begins: an earlier failed start's error stays in the log, and
  // showing it again would make a fixed config.json look as if the fix did not take.
  const logStart = fstatSync(out).size;
  const child = spawn(ctx.nodePath, [...DAEMON_NODE_FLAGS, daemonEntryOf(ctx.cliScript)], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...ctx.env, CPWD_HOME: paths.home },
    cwd: paths.home,
  });
  closeSync(out);
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await probeDaemon(paths.socket, 200);
    if (r) {
      writeLine(ctx.stdout, `cpwd daemon started (pid ${r.pid})`);
      return 0;
    }
    if (exited !== null) {
      // It refused (another starter won the race) or failed: show why from its log.
      const again = await probeDaemon(paths.socket, 200);
      if (again) {
        writeLine(ctx.stdout, `cpwd daemon already running (pid ${again.pid})`);
        return 0;
      }
      writeLine(ctx.stderr, `cpwd start: the daemon exited with code ${exited}; it said (in ${paths.daemonLog}):`);
      writeLine(ctx.stderr, tailSince(paths.daemonLog, logStart, 10));
      return 1;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  writeLine(ctx.stderr, `cpwd start: the daemon did not answer within ${timeoutMs} ms (see ${paths.daemonLog})`);
  return 1;
};

/** The last `lines` lines written to `file` from byte `offset` on: this start's output only. */
function tailSince(file: string, offset: number, lines: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    // A log rotated or truncated meanwhile starts again at 0.
    const from = offset <= size ? offset : 0;
    const buf = Buffer.alloc(Math.min(size - from, 64 * 1024));
    const read = readSync(fd, buf, 0, buf.length, size - buf.length);
    const text = buf.subarray(0, read).toString("utf8").trimEnd();
    return text === "" ? "(nothing)" : text.split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
