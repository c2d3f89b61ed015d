// How CLI commands reach the daemon: resolve paths from the command's env, connect with a short
// deadline, and say plainly when the daemon is not running (exit 3, like `systemctl status`).
import type { CpwdPaths } from "../src/platform/paths.js";
import { ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { MethodName, ParamsOf, ResultOf } from "../src/protocol/rpc-methods.js";
import { connect, type RpcClient } from "../src/rpc/client.js";
import { requestOnce } from "../src/rpc/request-once.js";
import { cliPaths } from "./cli-paths.js";
import { writeLine, type CliContext } from "./context.js";

/** Exit code when the daemon is not running. */
export const EXIT_NOT_RUNNING = 3;

export { cliPaths };

/** The connect deadline of a command. */
const CONNECT_TIMEOUT_MS = 1_000;

/** Connects, runs `fn`, closes. Not running → a one-line message and EXIT_NOT_RUNNING. */
export async function withDaemon(
  ctx: CliContext,
  fn: (client: RpcClient, paths: CpwdPaths) => Promise<number>,
  opts: { quietWhenDown?: boolean } = {},
): Promise<number> {
  const paths = cliPaths(ctx);
  let client: RpcClient;
  try {
    client = await connect(paths.socket, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    if (isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) {
      if (!opts.quietWhenDown) writeLine(ctx.stderr, `cpwd: the daemon is not running (home ${paths.home}); start it with \`cpwd start\``);
      return EXIT_NOT_RUNNING;
    }
    throw err;
  }
  try {
    return await fn(client, paths);
  } finally {
    client.close();
  }
}

/**
 * One call on a connection of its own, for a command that needs one answer: no client object and
 * no json-rpc-2.0 on its path (`cpwd status` is on a start-up budget). Resolves with null when the
 * daemon is not running, saying nothing; rejects with the daemon's CpwdError otherwise.
 */
export async function requestDaemon<M extends MethodName>(paths: CpwdPaths, method: M, params?: ParamsOf<M>): Promise<ResultOf<M> | null> {
  try {
    return await requestOnce(paths.socket, method, params, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    if (isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) return null;
    throw err;
  }
}
