// `cpwd replay [--at SEQ] [--json]`: the worker table as it stood at any point of events.jsonl,
// folded from the log alone — no daemon needed (and none is asked).
import { scanLog } from "../../src/eventlog/scan.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { replayWorkers } from "../../src/workers/replay.js";
import { toView } from "../../src/workers/view.js";
import { parseArgs } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { outputColumns } from "../format/columns.js";
import { formatWorkerTable } from "../format/worker-table.js";

export const run: Command = async (argv, ctx) => {
  let at = Infinity;
  let json = false;
  try {
    const { flags, positionals } = parseArgs(argv, { at: { kind: "string" }, json: { kind: "bool" } });
    if (positionals.length > 0) throw new Error(`unexpected argument ${positionals[0]}`);
    if (flags.at !== undefined) {
      at = Number(flags.at);
      if (!Number.isSafeInteger(at) || at < 0) throw new Error(`--at must be a seq (a whole number), got ${String(flags.at)}`);
    }
    json = flags.json === true;
  } catch (err) {
    writeLine(ctx.stderr, `cpwd replay: ${(err as Error).message}`);
    return 2;
  }
  const paths = cliPaths(ctx);
  const events: EventRecord[] = [];
  let lastTs: string | null = null;
  scanLog(paths.events, (e) => {
    if (e.seq <= at) {
      events.push(e);
      lastTs = e.ts;
    }
  });
  const state = replayWorkers(events, at);
  // "Now" is the moment of the last event replayed, so run times read as they did then.
  const nowMs = lastTs ? Date.parse(lastTs) : Date.now();
  const views = [...state.workers.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))).map((w) => toView(w, nowMs));
  if (json) {
    writeLine(ctx.stdout, JSON.stringify({ atSeq: state.lastSeq, at: lastTs, workers: views, anomalies: state.anomalies }));
  } else {
    writeLine(ctx.stdout, `as of seq ${state.lastSeq}${lastTs ? ` (${lastTs})` : ""}:`);
    writeLine(ctx.stdout, formatWorkerTable(views, outputColumns(ctx.stdout, ctx.env), nowMs));
  }
  return 0;
};
