// `cpwd logs -f`: prints what the workers' logs gain (fs.watch on their log folders) across their
// restarts, until every one has ended for good, then a line per worker saying how it ended, and an
// exit status that reflects it (ENDED_STATUS). Ends are learnt from the daemon's record as it is
// committed (`events.subscribe`), never by polling; the state after an end is asked of the daemon,
// which applies an end and the restart decision that follows it together, so a worker about to
// restart is never taken for ended. With `all`, workers spawned meanwhile join in.
import { watch, type FSWatcher } from "node:fs";
import { workerDir, type CpwdPaths } from "../src/platform/paths.js";
import { ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { EventRecord } from "../src/protocol/events.js";
import type { WorkerView } from "../src/protocol/workers.js";
import { FINAL_STATES } from "../src/protocol/workers.js";
import { workerLogsDir } from "../src/records/worker-files.js";
import type { RpcClient } from "../src/rpc/client.js";
import { writeLine, type CliContext } from "./context.js";
import { EXIT_NOT_RUNNING } from "./daemon-client.js";

/** The exit status of `cpwd logs -f` for a worker that ended so; with several, the largest. */
export const ENDED_STATUS: Record<string, number> = { exited: 0, failed: 4, timed_out: 5, stopped: 6, removed: 6, fatal: 7 };
/** The exit status when Ctrl-C (or SIGTERM) ends the following first. */
export const EXIT_INTERRUPTED = 130;

/** Events after which a worker may have ended for good (its state is then asked). */
const MAY_END = new Set(["worker.exited", "worker.fatal", "worker.cancelled", "worker.removed"]);

/** What the follower needs of the printing. */
export interface FollowTarget {
  /** Prints what every log gained. */
  pump(): void;
  /** Starts printing a worker that appeared while following (`all`). */
  add(view: WorkerView): void;
}

/** How a worker ended, in words: "exit 0", "exit 3 (failed)", "SIGTERM (stopped)", "fatal: …". */
export function describeEnd(w: Pick<WorkerView, "state" | "exitCode" | "signal" | "reason"> | null): string {
  if (w === null) return "was removed";
  const how = w.signal ?? (w.exitCode !== null ? `exit ${w.exitCode}` : null);
  const state = w.state === "timed_out" ? "timed out" : w.state;
  const main = w.state === "exited" ? (how ?? "exited") : how ? `${how} (${state})` : state;
  return `${main}${w.reason ? `: ${w.reason}` : ""}`;
}

/** "W3" or "W3 (api)". */
export function workerLabel(w: Pick<WorkerView, "id" | "name">): string {
  return w.name ? `${w.id} (${w.name})` : w.id;
}

export class LogFollower {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Each followed worker's end, once it has ended for good; null for removed. */
  private readonly ends = new Map<string, WorkerView | null>();
  private readonly followed = new Set<string>();
  private finish!: (code: number) => void;
  private readonly done = new Promise<number>((resolve) => (this.finish = resolve));

  constructor(
    private readonly ctx: CliContext,
    private readonly client: RpcClient,
    private readonly paths: CpwdPaths,
    private readonly target: FollowTarget,
    private readonly all: boolean,
  ) {}

  /** Follows `workers` until each has ended; resolves with the exit status. */
  async run(workers: WorkerView[]): Promise<number> {
    for (const w of workers) this.follow(w.id);
    const stop = () => this.finish(EXIT_INTERRUPTED);
    process.once("SIGINT", stop).once("SIGTERM", stop);
    this.client.onClose(() => this.finish(EXIT_NOT_RUNNING));
    try {
      // Batches are handled one after another, in order, even where handling one waits on the daemon.
      let chain = Promise.resolve();
      this.client.onNotification("events.batch", (p) => {
        chain = chain.then(() => this.onEvents(p.events as EventRecord[])).catch(() => {});
      });
      await this.client.call("events.subscribe", { type: "worker." });
      // An end before the subscription began is in the state now; one after it comes as an event.
      await Promise.all(workers.map((w) => this.check(w.id, true)));
      const code = await this.done;
      this.target.pump();
      if (code === EXIT_NOT_RUNNING) writeLine(this.ctx.stderr, "cpwd logs: the daemon stopped before the workers ended; their end is not known (they run on: `cpwd start`, then `cpwd logs -f` again)");
      return code;
    } finally {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      for (const w of this.watchers.values()) w.close();
    }
  }

  private follow(id: string): void {
    this.followed.add(id);
    try {
      const w = watch(workerLogsDir(workerDir(this.paths, id)), () => this.target.pump());
      w.on("error", () => {});
      this.watchers.set(id, w);
    } catch {
      // No log folder yet (a worker still queued): its lines are read on the next event or end.
    }
  }

  private async onEvents(events: EventRecord[]): Promise<void> {
    for (const e of events) {
      const id = e.worker;
      if (!id) continue;
      if (this.all && e.type === "worker.queued" && !this.followed.has(id)) {
        const view = await this.view(id);
        if (view) {
          this.target.add(view);
          this.follow(id);
          await this.check(id); // it may have ended while it was asked for
        }
      } else if (this.followed.has(id) && e.type === "worker.started") {
        if (!this.watchers.has(id)) this.follow(id);
        this.target.pump();
        writeLine(this.ctx.stderr, `cpwd logs: ${id} started${typeof e.payload.pid === "number" ? `, pid ${e.payload.pid}` : ""}`);
      } else if (this.followed.has(id) && MAY_END.has(e.type)) {
        await this.check(id);
      }
    }
  }

  /** The worker as the daemon has it now; null when it was removed. */
  private async view(id: string): Promise<WorkerView | null> {
    try {
      return ((await this.client.call("worker.get", { target: id })).workers[0] as WorkerView | undefined) ?? null;
    } catch (err) {
      if (isCpwdError(err, ErrorCode.NotFound)) return null;
      throw err;
    }
  }

  /**
   * Has `id` ended for good? Then its end is said, and once all have, the following ends. At the
   * start (`first`), a worker waiting to run is said to be waiting, so silence is not a mystery.
   */
  private async check(id: string, first = false): Promise<void> {
    if (this.ends.has(id)) return;
    let w: WorkerView | null;
    try {
      w = await this.view(id);
    } catch {
      return; // the connection went: onClose ends the following
    }
    if (w !== null && !FINAL_STATES.has(w.state)) {
      if (first && (w.state === "queued" || w.state === "backoff")) {
        const at = w.nextStartAt ? `, starts again at ${w.nextStartAt}` : "";
        writeLine(this.ctx.stderr, `cpwd logs: ${workerLabel(w)} is ${w.state === "queued" ? "queued" : `in backoff${at}`}; following`);
      }
      return;
    }
    if (this.ends.has(id)) return;
    this.ends.set(id, w);
    this.target.pump();
    writeLine(this.ctx.stderr, `cpwd logs: ${w ? workerLabel(w) : id} ended: ${describeEnd(w)}`);
    if ([...this.followed].every((f) => this.ends.has(f))) {
      this.finish(Math.max(...[...this.ends.values()].map((v) => ENDED_STATUS[v?.state ?? "removed"] ?? 1)));
    }
  }
}
