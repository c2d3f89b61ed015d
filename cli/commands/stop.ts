// `cpwd stop`: asks the daemon to shut down gracefully and waits until its process is gone.
// With a target (`cpwd stop W3|NAME|all`) it stops workers instead.
import { existsSync } from "node:fs";
import { isAlive } from "../../src/platform/proc.js";
import { instanceLockDir, readLockOwner } from "../../src/records/instance-lock.js";
import { usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths, withDaemon } from "../daemon-client.js";

/** How long a daemon that released its lock and socket may take to exit before we call it gone. */
const RELEASED_GRACE_MS = 1_000;

/** The daemon `pid` let go of the home: its lock folder names someone else or is gone, and so is the socket. */
function released(pid: number, lockDir: string, socket: string): boolean {
  if (process.platform !== "win32" && existsSync(socket)) return false;
  const owner = readLockOwner(lockDir);
  return owner !== null ? owner.pid !== pid : !existsSync(lockDir);
}

export const run: Command = async (argv, ctx) => {
  if (argv.some((a) => !a.startsWith("-"))) {
    const { stop } = await import("./worker-control.js");
    return stop(argv, ctx);
  }
  if (argv.length > 0) throw usageError(`unknown option ${argv[0]}`);
  const timeoutMs = Number(ctx.env.CPWD_STOP_TIMEOUT_MS ?? 15_000);
  const code = await withDaemon(
    ctx,
    async (client) => {
      const { pid } = await client.call("daemon.shutdown", { reason: "cpwd stop" });
      const paths = cliPaths(ctx);
      const deadline = Date.now() + timeoutMs;
      // Gone: exited (a zombie counts), or, where zombies cannot be told apart, it has released
      // its lock and socket (the last thing it does) a while ago.
      let releasedAtMs: number | null = null;
      const gone = (): boolean => {
        if (!isAlive(pid)) return true;
        if (!released(pid, instanceLockDir(paths.events), paths.socket)) return false;
        releasedAtMs ??= Date.now();
        return Date.now() - releasedAtMs > RELEASED_GRACE_MS;
      };
      while (!gone()) {
        if (Date.now() > deadline) {
          writeLine(ctx.stderr, `cpwd stop: daemon (pid ${pid}) still running after ${timeoutMs} ms`);
          return 1;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      writeLine(ctx.stdout, `cpwd daemon stopped (pid ${pid})`);
      return 0;
    },
    { quietWhenDown: true },
  );
  if (code === 3) {
    writeLine(ctx.stdout, "cpwd daemon is not running");
    return 0;
  }
  return code;
};
