// How many files each `--worktree` worker changed by the end of its run, counted with git once per
// run's end and kept, so a digest can say it without running git on every hook call.
import { ENDED, type WorkerSummary } from "./digests.js";
import type { Worktree } from "../claude/worktree.js";
import { changedFiles } from "./worktree-changes.js";

/** Longest a count may take in the background (a huge checkout): then it is left unknown. */
const COUNT_TIMEOUT_MS = 10_000;

export class WorktreeCounts {
  /** worker → the count for its run that ended at `endedAtMs` (null: git failed or took too long). */
  private readonly counts = new Map<string, { endedAtMs: number; count: Promise<number | null> }>();

  /** Counts, once per run's end, the files the worker's worktree changed since its base commit. */
  count(id: string, endedAtMs: number, wt: Worktree): Promise<number | null> {
    const known = this.counts.get(id);
    if (known?.endedAtMs === endedAtMs) return known.count;
    const count = changedFiles(wt, COUNT_TIMEOUT_MS).then(
      (files) => files.length,
      () => null,
    );
    this.counts.set(id, { endedAtMs, count });
    return count;
  }

  /**
   * The workers, each ended `--worktree` worker with `worktreeChanges`: its count as soon as known,
   * else null once `waitMs` have passed (a hook call must not wait on git). Counts not yet started
   * are started only for runs that ended after `sinceMs`: a restarted daemon does not count them all.
   */
  async annotate(workers: WorkerSummary[], worktreeOf: (id: string) => Worktree | undefined, sinceMs: number, waitMs: number): Promise<WorkerSummary[]> {
    const ids = new Set(workers.map((w) => w.id));
    for (const id of this.counts.keys()) if (!ids.has(id)) this.counts.delete(id); // removed workers
    const pending = workers.map((w) => {
      const wt = ENDED.has(w.state) ? worktreeOf(w.id) : undefined;
      if (!wt || w.endedAtMs == null) return undefined;
      return this.counts.get(w.id)?.endedAtMs === w.endedAtMs || w.endedAtMs > sinceMs ? this.count(w.id, w.endedAtMs, wt) : Promise.resolve(null);
    });
    if (pending.every((p) => p === undefined)) return workers;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    try {
      const counts = await Promise.all(pending.map((p) => (p === undefined ? undefined : Promise.race([p, late]))));
      return workers.map((w, i) => (pending[i] === undefined ? w : { ...w, worktreeChanges: counts[i] ?? null }));
    } finally {
      clearTimeout(timer);
    }
  }
}
