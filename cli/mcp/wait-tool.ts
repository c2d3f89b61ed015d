// `wait_for_workers`: blocks until any or all of the named workers have ended, or a timeout the
// model sets (at most 10 minutes), and returns them with how they ended and a Claude worker's
// result and cost, so a conductor can fan out and then gather without polling. No busy loop: the
// daemon's record (events.jsonl) is watched and every end is written there, with a check every
// second as a floor, in case a change is not reported by the file system.
import { watch, type FSWatcher } from "node:fs";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { WorkerView } from "../../src/protocol/workers.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { cliPaths } from "../daemon-client.js";
import { structured, type ToolDeps } from "./tool-kit.js";
import { isEndedState, toSummary, WorkerSummarySchema } from "./worker-summary.js";

/** The longest wait a call may ask for, seconds. */
export const WAIT_MAX_SECONDS = 600;
const CHECK_INTERVAL_MS = 1_000;
/** A Claude worker's result is read from its output as it ends and recorded just after: wait this much for it. */
const CLAUDE_RESULT_GRACE_MS = 3_000;

const waitShape = {
  workers: z.array(z.string().min(1)).min(1).max(100).describe("worker ids (W3) or names"),
  until: z.enum(["all", "any"]).optional().describe("return once all of them have ended (default), or once any has"),
  timeout_seconds: z.number().min(0).max(WAIT_MAX_SECONDS).optional().describe(`give up after this long (default 300, at most ${WAIT_MAX_SECONDS})`),
};

const waitOutShape = {
  done: z.boolean().describe("all (or, with until: any, at least one) of the workers have ended"),
  timedOut: z.boolean(),
  waitedMs: z.number(),
  ended: z.array(WorkerSummarySchema),
  running: z.array(WorkerSummarySchema).describe("those not ended yet"),
  gone: z.array(z.string()).describe("ids removed (cpwd rm) while waiting"),
};

/** Whether a worker has ended and, for a Claude worker, its result is in (or should have been by now). */
function settled(v: WorkerView, nowMs: number): boolean {
  if (!isEndedState(v.state)) return false;
  if (v.meta?.kind !== "claude" || (v.claude as { done?: boolean } | null | undefined)?.done) return true;
  return v.endedAt === null || nowMs - Date.parse(v.endedAt) >= CLAUDE_RESULT_GRACE_MS;
}

/** The ids the targets name, in order, each once. */
async function resolveIds(client: RpcClient, targets: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const target of targets) {
    const { workers } = await client.call("worker.get", { target });
    for (const w of workers) if (!ids.includes(String(w.id))) ids.push(String(w.id));
  }
  return ids;
}

/**
 * Runs `check` now, whenever `file` changes, and every CHECK_INTERVAL_MS, one at a time, until it
 * returns true, the deadline passes or a signal aborts. Resolves with whether `check` was satisfied.
 */
function checkUntil(check: () => Promise<boolean>, file: string, deadlineMs: number, signals: AbortSignal[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let busy = false;
    let again = false;
    let over = false;
    let watcher: FSWatcher | undefined;
    const finish = (ok: boolean, err?: unknown) => {
      if (over) return;
      over = true;
      clearInterval(interval);
      clearTimeout(deadline);
      watcher?.close();
      for (const s of signals) s.removeEventListener("abort", abort);
      if (err !== undefined) reject(err);
      else resolve(ok);
    };
    const abort = () => finish(false);
    const tick = async (): Promise<void> => {
      if (busy) return void (again = true);
      busy = true;
      try {
        do {
          again = false;
          if (await check()) return finish(true);
        } while (again && !over);
      } catch (err) {
        finish(false, err);
      } finally {
        busy = false;
      }
    };
    try {
      watcher = watch(file, () => void tick());
      watcher.on("error", () => undefined); // the interval still checks
    } catch {
      // no record yet: the interval checks
    }
    const interval = setInterval(() => void tick(), CHECK_INTERVAL_MS);
    const deadline = setTimeout(() => finish(false), Math.max(0, deadlineMs - Date.now()));
    for (const s of signals) s.addEventListener("abort", abort);
    if (signals.some((s) => s.aborted)) return abort();
    void tick();
  });
}

/** What one look at the workers found. */
interface Snapshot {
  ended: WorkerView[];
  running: WorkerView[];
  gone: string[];
}

async function snapshot(client: RpcClient, ids: string[]): Promise<Snapshot> {
  const { workers } = await client.call("worker.list");
  const byId = new Map(workers.map((w) => [String(w.id), w as WorkerView]));
  const now = Date.now();
  const snap: Snapshot = { ended: [], running: [], gone: [] };
  for (const id of ids) {
    const w = byId.get(id);
    if (!w) snap.gone.push(id);
    else (settled(w, now) ? snap.ended : snap.running).push(w);
  }
  return snap;
}

export function registerWaitTool(server: McpServer, { link, ctx, closing }: ToolDeps): void {
  server.registerTool(
    "wait_for_workers",
    {
      description: `Wait until all (or any) of the named workers have ended, up to timeout_seconds (at most ${WAIT_MAX_SECONDS}), and return how each ended, with a Claude worker's result and cost. Use it to gather workers you started instead of polling.`,
      inputSchema: waitShape,
      outputSchema: waitOutShape,
    },
    async (args, extra) => {
      const started = Date.now();
      const client = await link.client();
      const ids = await resolveIds(client, args.workers);
      const enough = (s: Snapshot) => (args.until === "any" ? s.ended.length + s.gone.length > 0 : s.running.length === 0);
      const token = extra._meta?.progressToken;
      let last: Snapshot = { ended: [], running: [], gone: [] };
      const check = async () => {
        const before = last.ended.length + last.gone.length;
        last = await snapshot(await link.client(), ids);
        const count = last.ended.length + last.gone.length;
        if (token !== undefined && count !== before) {
          const message = `${count} of ${ids.length} ended`;
          await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: count, total: ids.length, message } }).catch(() => undefined);
        }
        return enough(last);
      };
      const deadline = started + (args.timeout_seconds ?? 300) * 1_000;
      const done = await checkUntil(check, cliPaths(ctx).events, deadline, [extra.signal, closing]);
      return structured({
        done,
        timedOut: !done && Date.now() >= deadline,
        waitedMs: Date.now() - started,
        ended: last.ended.map(toSummary),
        running: last.running.map(toSummary),
        gone: last.gone,
      });
    },
  );
}
