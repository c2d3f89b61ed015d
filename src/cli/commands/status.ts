// `cpwd status`: the daemon (pid, uptime, version, socket, home, events) and its worker table.
// On the fast path: imports only the client and types, never zod or pino.
import type { ResultOf } from "../../protocol/methods.js";
import { parseArgs } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, EXIT_NOT_RUNNING, withDaemon } from "../daemon-client.js";

/** "3d 4h", "2h 5m", "4m 10s", "12s", "850ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

type Status = ResultOf<"status">;

async function renderWorkers(status: Status, ctx: CliContext): Promise<string> {
  void ctx;
  return status.workers.length === 0 ? "workers: none" : `workers: ${status.workers.length}`;
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { json: { kind: "bool" } });
  if (positionals.length > 0) {
    writeLine(ctx.stderr, `cpwd status: unexpected argument ${positionals[0]}`);
    return 2;
  }
  const code = await withDaemon(
    ctx,
    async (client) => {
      const status = await client.call("status");
      if (flags.json) {
        writeLine(ctx.stdout, JSON.stringify(status));
        return 0;
      }
      const d = status.daemon;
      writeLine(ctx.stdout, `cpwd daemon ${d.version}: running, pid ${d.pid}, up ${formatDuration(d.uptimeMs)}`);
      writeLine(ctx.stdout, `  home     ${d.home}`);
      writeLine(ctx.stdout, `  socket   ${d.socket}`);
      writeLine(ctx.stdout, `  events   ${status.eventCount} (last seq ${status.lastSeq})`);
      writeLine(ctx.stdout, "");
      writeLine(ctx.stdout, await renderWorkers(status, ctx));
      return 0;
    },
    { quietWhenDown: true },
  );
  if (code === EXIT_NOT_RUNNING) {
    const paths = cliPaths(ctx);
    if (flags.json) writeLine(ctx.stdout, JSON.stringify({ daemon: null, home: paths.home, socket: paths.socket, workers: [], lastSeq: null }));
    else writeLine(ctx.stdout, `cpwd daemon is not running (home ${paths.home})`);
  }
  return code;
};
