// `cpwd daemon`: runs the daemon in the foreground of this process until SIGTERM/SIGINT or
// `cpwd stop`. `cpwd start` and the login service run the daemon's own entry instead
// (`node dist/daemon/main.js`), so that none of the CLI's modules sit in the resident process.
import { usageError } from "../args.js";
import type { Command } from "../context.js";
import { cliPaths } from "../cli-paths.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length > 0) throw usageError(`takes no arguments (got ${argv.join(" ")})`);
  // The daemon is the layer below the CLI: loaded only by this command.
  const { runDaemonProcess } = await import("../../daemon/main.js");
  return runDaemonProcess({ paths: cliPaths(ctx), env: ctx.env, stderr: ctx.stderr });
};
