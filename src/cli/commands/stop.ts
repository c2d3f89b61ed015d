// `cpwd stop`: asks the daemon to shut down gracefully and waits until its process is gone.
// With a target (`cpwd stop W3|NAME|all`) it stops workers instead.
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export const run: Command = async (argv, ctx) => {
  if (argv.some((a) => !a.startsWith("-"))) {
    const { stop } = await import("./worker-control.js");
    return stop(argv, ctx);
  }
  if (argv.length > 0) {
    writeLine(ctx.stderr, `cpwd stop: unknown option ${argv[0]}`);
    return 2;
  }
  const timeoutMs = Number(ctx.env.CPWD_STOP_TIMEOUT_MS ?? 15_000);
  const code = await withDaemon(
    ctx,
    async (client) => {
      const { pid } = await client.call("daemon.shutdown", { reason: "cpwd stop" });
      const deadline = Date.now() + timeoutMs;
      while (alive(pid)) {
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
