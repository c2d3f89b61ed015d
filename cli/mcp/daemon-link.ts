// The MCP server's connection to the daemon: one client kept open across tool calls, opened again
// after the daemon went away, and a daemon started (as `cpwd start` starts it) when none runs,
// unless autostart is off (config `autostart: false` or CPWD_AUTOSTART=0, as for the hook shim).
import { readShimSettings } from "../../hooks/shim-settings.js";
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import { connect, type RpcClient } from "../../src/rpc/client.js";
import { run as startCommand } from "../commands/start.js";
import type { CliContext } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { captureCli, cliMessage } from "./cli-capture.js";

export class DaemonLink {
  private open: RpcClient | null = null;
  private pending: Promise<RpcClient> | null = null;

  constructor(private readonly ctx: CliContext) {}

  /** An open connection to the daemon, started first when it is not running. */
  client(): Promise<RpcClient> {
    if (this.open) return Promise.resolve(this.open);
    // Overlapping tool calls share one attempt (and so start at most one daemon).
    this.pending ??= this.connectOrStart().finally(() => (this.pending = null));
    return this.pending;
  }

  /** Makes sure a daemon runs, for the CLI commands a tool runs in-process (they connect on their own). */
  async ensureRunning(): Promise<void> {
    await this.client();
  }

  close(): void {
    this.open?.close();
    this.open = null;
  }

  private async connectOrStart(): Promise<RpcClient> {
    const paths = cliPaths(this.ctx);
    let client: RpcClient;
    try {
      client = await connect(paths.socket, { connectTimeoutMs: 1_000 });
    } catch (err) {
      if (!isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) throw err;
      if (!readShimSettings(paths.config, this.ctx.env).autostart) {
        throw new Error(`cpwd: the daemon is not running (home ${paths.home}); start it with \`cpwd start\``);
      }
      const started = await captureCli("start", startCommand, [], this.ctx);
      if (started.code !== 0) throw new Error(cliMessage(started));
      client = await connect(paths.socket, { connectTimeoutMs: 1_000 });
    }
    this.open = client;
    client.onClose(() => {
      if (this.open === client) this.open = null;
    });
    return client;
  }
}
