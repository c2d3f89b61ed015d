// The Claude worker lifecycle the supervisor calls: a `--worktree` worker's git worktree made
// before it starts and removed with it, and a Claude worker's output followed while it runs, run by
// run, with a run over its cost limit (`--max-cost`) recorded as stopped.
import { join } from "node:path";
import type { WorkerLifecycle } from "../supervisor/supervisor.js";
import { maxCostOf } from "./budget.js";
import type { ClaudeInfo, ClaudeTracker } from "./tracker.js";
import { createWorktree, recordedWorktree, removeWorktreeIfClean } from "./worktree.js";

/** A worker's Claude progress: null for a Claude worker with none yet, undefined for any other worker. */
export function claudeInfoOf(claude: ClaudeTracker, w: { id: string; meta: Record<string, unknown> }): ClaudeInfo | null | undefined {
  return w.meta.kind === "claude" ? (claude.get(w.id) ?? null) : undefined;
}

/** The lifecycle callbacks for Claude workers; worktrees live under `<home>/worktrees/<id>`. */
export function claudeLifecycle(claude: ClaudeTracker, home: string): WorkerLifecycle {
  return {
    prepare: async (id, spec) => {
      if (spec.meta.worktreeFrom !== true) return spec;
      const { worktreeFrom: _, ...meta } = spec.meta;
      const wt = await createWorktree(spec.cwd, id, join(home, "worktrees", id));
      return { ...spec, cwd: wt.path, meta: { ...meta, worktree: wt } };
    },
    launching: async (w, dir) => {
      if (w.meta.kind === "claude") await claude.beginRun(w.id, join(dir, "logs", "stdout.log"));
    },
    started: (w, dir) => {
      if (w.meta.kind === "claude") claude.track(w.id, join(dir, "logs", "stdout.log"), join(dir, "logs"), maxCostOf(w.meta));
    },
    stoppedBecause: (w, dir) => {
      if (w.meta.kind !== "claude") return undefined;
      // A run that ended while the daemon was down was never followed: read it now, once, so its
      // result and cost are recorded (and counted) and its limit judged; `ended` stops following.
      if (!claude.follows(w.id)) claude.track(w.id, join(dir, "logs", "stdout.log"), join(dir, "logs"), maxCostOf(w.meta));
      return claude.overLimit(w.id) ?? undefined;
    },
    ended: (w) => claude.untrack(w.id),
    view: (w) => {
      const info = claudeInfoOf(claude, w);
      return info === undefined ? {} : { claude: info };
    },
    removed: async (w) => {
      const wt = recordedWorktree(w.meta);
      if (!wt?.path) return [];
      const r = await removeWorktreeIfClean(wt).catch((err: Error) => ({ removed: false as const, reason: err.message }));
      return [r.removed ? `${w.id}: removed worktree ${wt.path} and branch ${wt.branch}` : `${w.id}: kept worktree ${wt.path}: ${r.reason}`];
    },
  };
}
