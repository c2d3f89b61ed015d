// `cpwd replay [--at SEQ] [--json]`: the worker table as it stood at any point of events.jsonl,
// folded from the record alone — no daemon needed (and none is asked). Streamed from the newest
// snapshot at or before that seq through the segments after it: only the transitions of workers
// still listed are parsed, other lines are passed over by their envelope, nothing is kept per event.
import { foldRecord, type RecordFold } from "../../src/eventlog/record-fold.js";
import { applyWorkerEvent, emptyWorkersState, RemovedWorkers, replayKeeps, type WorkersState } from "../../src/workers/replay.js";
import { toView } from "../../src/workers/view.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { outputColumns } from "../format/columns.js";
import { formatWorkerTable } from "../format/worker-table.js";

/**
 * The worker table as the record leaves it at `at`, in two light passes: which workers end
 * removed (their lines are then passed over), then the fold.
 */
export async function replayRecordWorkers(eventsFile: string, at = Infinity): Promise<{ state: WorkersState; fold: RecordFold }> {
  const state = emptyWorkersState();
  const removed = new RemovedWorkers();
  await foldRecord(eventsFile, () => {}, { upToSeq: at, needle: '"type":"worker.removed"', keepLine: (e) => (removed.note(e.type, e.workerNumber, e.seq), false) });
  const fold = await foldRecord(eventsFile, (e) => applyWorkerEvent(state, e), { upToSeq: at, needle: '"type":"worker.', keepLine: replayKeeps(state, removed) });
  state.lastSeq = fold.lastSeq;
  return { state, fold };
}

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
  const { state, fold } = await replayRecordWorkers(paths.events, at);
  if (fold.gaps[0]?.after === 0 && fold.files.segments.length > 0) {
    writeLine(ctx.stderr, `cpwd replay: the record before seq ${fold.gaps[0].next} was removed (cpwd gc) and no snapshot covers it; the table cannot be rebuilt at ${at === Infinity ? "its end" : `seq ${at}`}`);
    return 1;
  }
  const lastTs = fold.lastTs;
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
