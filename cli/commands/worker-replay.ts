// `cpwd replay [--at SEQ] [--json]`: the worker table as it stood at any point of events.jsonl,
// folded from the record alone — no daemon needed (and none is asked). Streamed from the newest
// snapshot at or before that seq through the segments after it: only the transitions of workers
// still listed are parsed, other lines are passed over by their envelope, nothing is kept per event.
import { toView } from "../../src/workers/view.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { outputColumns } from "../format/columns.js";
import { formatWorkerTable } from "../format/worker-table.js";
import { readRecordWorkers, workersById } from "../record-state.js";

export const run: Command = async (argv, ctx) => {
  let at = Infinity;
  const { flags, positionals } = parseArgs(argv, { at: { kind: "string" }, json: { kind: "bool" } });
  if (positionals.length > 0) throw usageError(`unexpected argument ${positionals[0]}`);
  if (flags.at !== undefined) {
    at = Number(flags.at);
    if (!Number.isSafeInteger(at) || at < 0) throw usageError(`--at must be a seq (a whole number), got ${String(flags.at)}`);
  }
  const json = flags.json === true;
  const paths = cliPaths(ctx);
  const { state, fold } = await readRecordWorkers(paths.events, at);
  if (fold.gaps[0]?.after === 0 && fold.files.segments.length > 0) {
    writeLine(ctx.stderr, `cpwd replay: the record before seq ${fold.gaps[0].next} was removed (cpwd gc) and no snapshot covers it; the table cannot be rebuilt at ${at === Infinity ? "its end" : `seq ${at}`}`);
    return 1;
  }
  const lastTs = fold.lastTs;
  // "Now" is the moment of the last event replayed, so run times read as they did then.
  const nowMs = lastTs ? Date.parse(lastTs) : Date.now();
  const views = workersById(state).map((w) => toView(w, nowMs));
  if (json) {
    writeLine(ctx.stdout, JSON.stringify({ atSeq: state.lastSeq, at: lastTs, workers: views, anomalies: state.anomalies }));
  } else {
    writeLine(ctx.stdout, `as of seq ${state.lastSeq}${lastTs ? ` (${lastTs})` : ""}:`);
    writeLine(ctx.stdout, formatWorkerTable(views, outputColumns(ctx.stdout, ctx.env), nowMs));
  }
  return 0;
};
