// What `cpwd apply` will do, decided from the file's entries and the workers the daemon knows, with
// no I/O: a step per entry (start, unchanged, start again, restart, or refuse a name taken by a
// worker not started from this file) and one per worker from this file that is no longer listed.
// A worker apply starts records `meta.applied = {file, hash, fields}`: which file, and a hash of
// each part of its entry, so the next apply can tell its own workers and what changed.
import { createHash } from "node:crypto";
import { FINAL_STATES, type WorkerState, type WorkerView } from "../../src/protocol/workers.js";
import type { ApplyEntry } from "./apply-file.js";

/** What apply records in a worker's meta. Hashes, not values: env values may be secrets, and meta is in the event log. */
export interface AppliedMeta {
  /** The file's real path. */
  file: string;
  /** The hash of `fields`. */
  hash: string;
  /** A short hash of each part of the entry: command, cwd, env, timeout, grace, restart. */
  fields: Record<string, string>;
}

/** The parts of an entry compared one by one, named as in the file. */
function entryParts(e: ApplyEntry): Record<string, unknown> {
  const env = Object.fromEntries(Object.entries(e.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { command: e.argv, cwd: e.cwd, env, timeout: e.timeoutMs, grace: e.graceMs ?? null, restart: e.restart };
}

function shortHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** The meta a worker started from `file` for `entry` carries. */
export function appliedMeta(file: string, entry: ApplyEntry): AppliedMeta {
  const fields = Object.fromEntries(Object.entries(entryParts(entry)).map(([k, v]) => [k, shortHash(v)]));
  return { file, hash: shortHash(fields), fields };
}

/** A worker's `meta.applied`, when it has one of the right shape. */
export function appliedOf(w: WorkerView): AppliedMeta | null {
  const a = w.meta?.applied as Partial<AppliedMeta> | undefined;
  if (!a || typeof a.file !== "string" || typeof a.hash !== "string") return null;
  return { file: a.file, hash: a.hash, fields: a.fields && typeof a.fields === "object" ? a.fields : {} };
}

export type Step =
  /** No worker has this name: spawn one. */
  | { kind: "start"; entry: ApplyEntry }
  /** Its worker runs (or waits to) as the entry says. */
  | { kind: "unchanged"; entry: ApplyEntry; worker: WorkerView }
  /** Its worker ended and the entry did not change: run it again (worker.restart). */
  | { kind: "start-again"; entry: ApplyEntry; worker: WorkerView }
  /**
   * The entry changed: stop the worker if it has not ended, then `rerun` it when only the command
   * changed (it keeps its id, folder and logs), else remove it and spawn the entry afresh.
   */
  | { kind: "restart"; entry: ApplyEntry; worker: WorkerView; changed: string[]; how: "rerun" | "replace" }
  /** The name belongs to a worker not started from this file: never touched. */
  | { kind: "conflict"; entry: ApplyEntry; worker: WorkerView }
  /** A worker from this file no longer listed: stopped and removed with `--prune`, else kept and mentioned. */
  | { kind: "prune" | "keep"; worker: WorkerView };

/** The parts of `entry` that differ from what `worker` was started with (by its hashes, and by the daemon's view). */
export function changedParts(entry: ApplyEntry, worker: WorkerView, recorded: AppliedMeta): string[] {
  const now = appliedMeta(recorded.file, entry);
  const changed = new Set(Object.keys(now.fields).filter((k) => recorded.fields[k] !== now.fields[k]));
  // What the daemon shows wins over the record: a worker rerun by hand runs another command.
  if (JSON.stringify(worker.command) !== JSON.stringify(entry.argv)) changed.add("command");
  if (worker.cwd !== entry.cwd) changed.add("cwd");
  return Object.keys(now.fields).filter((k) => changed.has(k));
}

/** True when the worker has ended (nothing happens to it unless someone acts). */
export function hasEnded(state: WorkerState | string): boolean {
  return FINAL_STATES.has(state as WorkerState);
}

/** The steps, entries in file order then the workers from this file no longer listed (by id). */
export function planApply(entries: ApplyEntry[], workers: WorkerView[], file: string, prune: boolean): Step[] {
  const byName = new Map(workers.filter((w) => w.name !== null).map((w) => [w.name!, w]));
  const steps: Step[] = entries.map((entry): Step => {
    const worker = byName.get(entry.name);
    if (!worker) return { kind: "start", entry };
    const recorded = appliedOf(worker);
    if (!recorded || recorded.file !== file) return { kind: "conflict", entry, worker };
    const changed = changedParts(entry, worker, recorded);
    if (changed.length === 0) return { kind: hasEnded(worker.state) ? "start-again" : "unchanged", entry, worker };
    return { kind: "restart", entry, worker, changed, how: changed.every((k) => k === "command") ? "rerun" : "replace" };
  });
  const listed = new Set(entries.map((e) => e.name));
  const gone = workers
    .filter((w) => appliedOf(w)?.file === file && !listed.has(w.name ?? ""))
    .sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  return [...steps, ...gone.map((worker): Step => ({ kind: prune ? "prune" : "keep", worker }))];
}
