// `cpwd daemon`: runs the daemon in the foreground until SIGTERM/SIGINT or `cpwd stop`.
import { usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../cli-paths.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length > 0) throw usageError(`takes no arguments (got ${argv.join(" ")})`);
  // The daemon is the layer below the CLI: loaded only by this command.
  const { startDaemon } = await import("../../daemon/main.js");
  const foreground = ctx.env.CPWD_SERVICE === "1" || process.stderr.isTTY === true;
  try {
    const paths = cliPaths(ctx);
    const d = await startDaemon({ paths, env: ctx.env, logToStderr: foreground });
    // One human line, so `npm start` shows it is up (the operational log is in daemon.log).
    writeLine(ctx.stderr, `cpwd daemon running: pid ${process.pid}, home ${paths.home}, socket ${paths.socket}; Ctrl-C or \`cpwd stop\` stops it`);
    await d.done;
    // Shut down means gone: nothing left over (a log write waiting on a full disk, a stray
    // handle) may keep the process alive after `cpwd stop` was told it stopped.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    writeLine(ctx.stderr, `cpwd daemon: ${e.message ?? String(err)}`);
    return 1;
  }
};
