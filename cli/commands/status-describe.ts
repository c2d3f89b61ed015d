// `cpwd status W3` (a name, or all): one worker described, as `pm2 describe` does. The daemon,
// when it runs, gives the worker's view as it stands (with its process tree's CPU and memory)
// and the files it holds; its runs come from the record on disk, reading only that worker's lines
// (a substring test before any JSON is parsed), so the cost is one pass over the record. With the
// daemon down the worker is found as the record on disk has it (cli/record-state.ts), and this says so.
import { existsSync } from "node:fs";
import { readEventLines } from "../../src/eventlog/read.js";
import { workerDir, type CpwdPaths } from "../../src/platform/paths.js";
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import type { EventRecord } from "../../src/protocol/events.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import { workerLogFile, workerOutputFile } from "../../src/records/worker-files.js";
import { connect, type RpcClient } from "../../src/rpc/client.js";
import { workerHistory, type WorkerHistory } from "../../src/workers/runs.js";
import { toView } from "../../src/workers/view.js";
import { writeLine, type CliContext } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { wantsColour } from "../format/colour.js";
import { formatDescription, type WorkerDescription } from "../format/describe.js";
import { namedWorkers, readRecordWorkers } from "../record-state.js";

/** Past this many workers (`all`), lines are picked by type rather than by each worker's id. */
const MAX_NEEDLES = 8;

async function readMatching(file: string, needles: string[]): Promise<EventRecord[]> {
  const events: EventRecord[] = [];
  for await (const e of readEventLines(file, 0, (line) => needles.some((n) => line.includes(n)))) events.push(e);
  return events;
}

/** Lines of these workers: `"worker":"W3"` as the log writes it, or every worker event. */
function needlesFor(ids: string[]): string[] {
  return ids.length <= MAX_NEEDLES ? ids.map((id) => `"worker":${JSON.stringify(id)}`) : ['"type":"worker.'];
}

/** What `target` names in the record on disk: an id, a name, or all (ended workers included). */
async function resolveOffline(eventsFile: string, target: string): Promise<WorkerView[]> {
  const nowMs = Date.now();
  return namedWorkers((await readRecordWorkers(eventsFile)).state, [target]).map((w) => toView(w, nowMs));
}

/** A replayed view has no Claude summary (the daemon keeps it): the runs' own, totalled. */
function claudeFromRuns(h: WorkerHistory): Record<string, unknown> | null {
  const runs = h.runs.filter((r) => r.claude !== null);
  const last = runs[runs.length - 1]?.claude;
  if (!last) return null;
  const costs = runs.map((r) => r.claude!.costUsd).filter((c): c is number => c !== null);
  return { ...last, totalCostUsd: costs.length > 0 ? costs.reduce((a, b) => a + b, 0) : null };
}

function describe(paths: CpwdPaths, view: WorkerView, events: EventRecord[], claims: Array<{ path: string; worker: string; heldMs: number }> | null): WorkerDescription {
  const history = workerHistory(events, view.id);
  const dir = workerDir(paths, view.id);
  return {
    view: view.claude === undefined && view.meta.kind === "claude" ? { ...view, claude: claudeFromRuns(history) } : view,
    history,
    claims: claims === null ? null : claims.filter((c) => c.worker === view.id).map((c) => ({ path: c.path, heldMs: c.heldMs })),
    logs: { stdout: workerLogFile(dir, "stdout"), stderr: workerLogFile(dir, "stderr"), output: existsSync(workerOutputFile(dir)) ? workerOutputFile(dir) : null },
  };
}

/** Describes the workers `target` names; 1 when there is none. */
export async function describeWorkers(target: string, ctx: CliContext, opts: { json: boolean }): Promise<number> {
  const paths = cliPaths(ctx);
  let client: RpcClient | null = null;
  try {
    client = await connect(paths.socket, { connectTimeoutMs: 1_000 });
  } catch (err) {
    if (!isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) throw err;
  }
  let descriptions: WorkerDescription[];
  try {
    if (client) {
      let views: WorkerView[];
      try {
        views = (await client.call("worker.get", { target })).workers as unknown as WorkerView[];
      } catch (err) {
        if (!isCpwdError(err, ErrorCode.NotFound)) throw err;
        writeLine(ctx.stderr, `cpwd status: ${err.message}`);
        return 1;
      }
      const { claims } = await client.call("claims.list");
      const events = await readMatching(paths.events, needlesFor(views.map((v) => v.id)));
      descriptions = views.map((v) => describe(paths, v, events, claims));
    } else {
      writeLine(ctx.stderr, `cpwd status: the daemon is not running (home ${paths.home}); described from the record on disk`);
      const views = await resolveOffline(paths.events, target);
      if (views.length === 0) {
        writeLine(ctx.stderr, `cpwd status: no worker ${target} in the record (an id like W3, a name, or all)`);
        return 1;
      }
      const events = await readMatching(paths.events, needlesFor(views.map((v) => v.id)));
      descriptions = views.map((v) => describe(paths, v, events, null));
    }
  } finally {
    client?.close();
  }
  if (opts.json) {
    const out = descriptions.map((d) => ({ worker: d.view, ...d.history, claims: d.claims, logs: d.logs, daemon: client !== null }));
    writeLine(ctx.stdout, JSON.stringify(target === "all" ? out : out[0]));
    return 0;
  }
  const colour = wantsColour(ctx.stdout, ctx.env);
  writeLine(ctx.stdout, descriptions.map((d) => formatDescription(d, { nowMs: Date.now(), colour })).join("\n\n"));
  return 0;
}
