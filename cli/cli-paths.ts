// CPWD_HOME's paths as a command sees them (its env, HOME, uid). A file of its own so that
// `cpwd daemon` gets them without the RPC client, which the daemon process never uses: it loads
// json-rpc-2.0 as CommonJS, and Node's CommonJS loader alone costs the resident daemon ~4 MiB.
import { resolvePaths, type CpwdPaths } from "../src/platform/paths.js";
import type { CliContext } from "./context.js";

export function cliPaths(ctx: CliContext): CpwdPaths {
  return resolvePaths({
    env: ctx.env,
    platform: process.platform,
    home: ctx.env.HOME ?? ctx.env.USERPROFILE ?? "",
    uid: typeof process.getuid === "function" ? process.getuid() : 0,
  });
}
