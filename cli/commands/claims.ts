// `cpwd claims [--json]`: files held by workers. `cpwd release PATH|W<N>` is in release.ts. With the
// daemon down, the claims of workers that have not ended are replayed from the record on disk
// (cli/record-state.ts), said so on stderr; in `--json` each then carries `fromRecord: true`.
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, EXIT_NOT_RUNNING, withDaemon } from "../daemon-client.js";
import { formatDuration } from "../format/durations.js";
import { readRecordState, recordGapsWarning } from "../record-state.js";

type ClaimRow = { path: string; worker: string; name?: string; heldMs: number };

function printClaims(ctx: CliContext, claims: ClaimRow[], json: boolean): void {
  if (json) writeLine(ctx.stdout, JSON.stringify(claims));
  else if (claims.length === 0) writeLine(ctx.stdout, "no files are claimed");
  else for (const c of claims) writeLine(ctx.stdout, `${c.worker.padEnd(5)} ${(c.name ?? "").padEnd(12)} ${formatDuration(c.heldMs).padStart(7)}  ${c.path}`);
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { json: { kind: "bool" } });
  if (positionals.length > 0) {
    throw usageError(`unexpected argument ${positionals[0]}`);
  }
  const json = flags.json === true;
  const code = await withDaemon(
    ctx,
    async (client) => {
      printClaims(ctx, (await client.call("claims.list")).claims, json);
      return 0;
    },
    { quietWhenDown: true },
  );
  if (code !== EXIT_NOT_RUNNING) return code;
  const paths = cliPaths(ctx);
  writeLine(ctx.stderr, `cpwd claims: the daemon is not running (home ${paths.home}); the claims of workers that have not ended, from the record on disk`);
  const record = await readRecordState(paths.events);
  const warning = recordGapsWarning("claims", record.gaps);
  if (warning) writeLine(ctx.stderr, warning);
  printClaims(ctx, record.claims, json);
  return 0;
};
