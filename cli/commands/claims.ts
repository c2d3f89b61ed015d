// `cpwd claims [--json]`: files held by workers. `cpwd release PATH|W<N>` is in release.ts.
import { parseArgs } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";
import { formatDuration } from "../format/durations.js";

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { json: { kind: "bool" } });
  if (positionals.length > 0) {
    writeLine(ctx.stderr, `cpwd claims: unexpected argument ${positionals[0]}`);
    return 2;
  }
  return withDaemon(ctx, async (client) => {
    const { claims } = await client.call("claims.list");
    if (flags.json) writeLine(ctx.stdout, JSON.stringify(claims));
    else if (claims.length === 0) writeLine(ctx.stdout, "no files are claimed");
    else for (const c of claims) writeLine(ctx.stdout, `${c.worker.padEnd(5)} ${(c.name ?? "").padEnd(12)} ${formatDuration(c.heldMs).padStart(7)}  ${c.path}`);
    return 0;
  });
};
