// Coming back after a daemon restart: what the replayed log leaves to do (the queue, backoffs to
// re-arm, decisions lost in a crash, launches it does not have, workers to re-adopt) and asking
// the runner about each worker that was running. The supervisor carries the plan out under its
// lock (`Supervisor.resume`).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { ACTIVE_STATES, FINAL_STATES } from "../../src/protocol/workers.js";
import { readRunRecord, type RunRecord } from "../../src/records/worker-files.js";
import type { WorkerRecord } from "../../src/workers/machine.js";
import type { AdoptResult, Runner, WorkerHandle } from "../runner/runner.js";

/** What the replayed workers leave to do, in the order the supervisor does it. */
export interface ResumePlan {
  /** Queued workers, oldest first (FIFO across the restart). */
  ready: string[];
  /** Workers in backoff and the time left before each starts again (0 if already due). */
  backoffs: Array<{ id: string; delayMs: number }>;
  /**
   * Ended workers whose follow-up (backoff, fatal, a user's restart) may have been lost: the daemon
   * may have died between a `worker.exited` and its decision. For most the policy says "none".
   */
  undecided: string[];
  /** Workers the log says run (starting, running, stopping): the runner is asked about each. */
  active: WorkerRecord[];
}

export function planResume(workers: ReadonlyMap<string, WorkerRecord>, nowMs: number): ResumePlan {
  const all = [...workers.values()];
  return {
    ready: all.filter((w) => w.state === "queued").sort((a, b) => a.queuedSeq - b.queuedSeq).map((w) => w.id),
    backoffs: all.filter((w) => w.state === "backoff").map((w) => ({ id: w.id, delayMs: Math.max(0, (w.nextStartAtMs ?? nowMs) - nowMs) })),
    undecided: all.filter((w) => FINAL_STATES.has(w.state) && w.state !== "fatal").map((w) => w.id),
    active: all.filter((w) => ACTIVE_STATES.has(w.state)),
  };
}

/**
 * Queued or backoff workers that a daemon launched and died before recording (a launch comes
 * before its record: Supervisor.launch), so their wrappers run them unrecorded. The wrapper's
 * run.json tells: it carries the launch's number, and one numbered past the record's `runs` is
 * from a launch the record lacks (an earlier run's, left until the next launch deletes it, has a
 * number the record counted). Times are no proof: mtimes are coarse and clocks step back, and a
 * launch missed is a worker run twice.
 */
export function unrecordedLaunches(workers: ReadonlyMap<string, WorkerRecord>, dirOf: (id: string) => string): WorkerRecord[] {
  return [...workers.values()].filter((w) => {
    if (w.state !== "queued" && w.state !== "backoff") return false;
    const run = readRunRecord(dirOf(w.id));
    return run !== null && launchedUnrecorded(w, run);
  });
}

/**
 * Whether run.json is from a launch after the last one `w` records. A run.json without a launch
 * number (from a wrapper of before the upgrade, still running) is judged by time, as it was: newer
 * than the worker's last recorded end, or the worker never ended.
 */
function launchedUnrecorded(w: WorkerRecord, run: RunRecord): boolean {
  if (run.launch !== null) return run.launch > w.runs;
  return w.endedAtMs === null || run.writtenAtMs > w.endedAtMs;
}

/**
 * Worker folders the record has no worker for, with their numbers: left by a daemon killed after
 * launching a worker before its `worker.queued` was durable (Supervisor.spawn), or while making or
 * removing a folder. Whatever runs in one is no one's, and its id must not be handed out again.
 */
export function unrecordedFolders(workersDir: string, workers: ReadonlyMap<string, WorkerRecord>): Array<{ id: string; number: number }> {
  let names: string[];
  try {
    names = readdirSync(workersDir);
  } catch {
    return []; // no worker yet
  }
  return names.flatMap((name) => {
    const m = /^W(\d+)$/.exec(name);
    return m && !workers.has(name) ? [{ id: name, number: Number(m[1]) }] : [];
  });
}

/**
 * Kills what runs in each folder the record lacks (the runner SIGKILLs a lost one's group itself),
 * and reserves ids past the highest, so that no new worker gets one of them (`reserveId` is the
 * ledger's). The folders stay, with what they hold.
 */
export async function settleUnrecordedFolders(runner: Runner, log: Logger, workersDir: string, workers: ReadonlyMap<string, WorkerRecord>, reserveId: () => string): Promise<void> {
  const folders = unrecordedFolders(workersDir, workers);
  for (const f of folders) {
    const r = await runner.adopt(f.id, join(workersDir, f.id), null);
    if (r.kind === "running") runner.signal(r.handle, "SIGKILL");
    // Not said of a folder where nothing ran (no run.json) or what ran has ended: found at every start.
    if (r.kind === "running" || (r.kind === "lost" && r.handle !== null)) log.warn({ worker: f.id, found: r.kind }, "a worker folder the record lacks: what runs in it is killed, its id never reused");
  }
  // The record's next number is past every worker it has; one of these may be further.
  const recorded = Math.max(0, ...[...workers.keys()].map((id) => Number(id.slice(1))));
  const top = Math.max(0, ...folders.map((f) => f.number));
  if (top > recorded) while (Number(reserveId().slice(1)) < top);
}

/** Asks the runner whether a worker the log says runs still does, with the handle recorded at its start. */
export async function adoptWorker(runner: Runner, log: Logger, w: WorkerRecord, dir: string): Promise<AdoptResult> {
  const known: WorkerHandle | null = w.pid && w.wrapperPid
    ? { workerId: w.id, pid: w.pid, wrapperPid: w.wrapperPid, pidStartTime: w.pidStartTime, wrapperStartTime: w.wrapperStartTime, startedAtMs: w.startedAtMs ?? 0 }
    : null;
  const r = await runner.adopt(w.id, dir, known);
  log.info({ worker: w.id, found: r.kind }, "adopting worker after restart");
  return r;
}
