// `cpwd daemon`: runs the daemon in the foreground until SIGTERM/SIGINT or `cpwd stop`.
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length > 0) {
    writeLine(ctx.stderr, `cpwd daemon: takes no arguments (got ${argv.join(" ")})`);
    return 2;
  }
  // The daemon is the layer below the CLI: loaded only by this command.
  const { startDaemon } = await import("../../../daemon/main.js");
  const foreground = ctx.env.CPWD_SERVICE === "1" || process.stderr.isTTY === true;
  try {
    const d = await startDaemon({ paths: cliPaths(ctx), env: ctx.env, logToStderr: foreground });
    await d.done;
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    writeLine(ctx.stderr, `cpwd daemon: ${e.message ?? String(err)}`);
    return 1;
  }
};
