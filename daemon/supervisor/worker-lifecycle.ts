// The callbacks another area may give the supervisor, called at points of a worker's life.
import type { WorkerSpec, WorkerView } from "../../src/protocol/workers.js";
import type { WorkerRecord } from "../../src/workers/machine.js";

/**
 * Callbacks at points of a worker's life, for other areas (the Claude lifecycle makes worktrees
 * and follows Claude workers' output). Not Claude Code hooks: those are the hook service's.
 */
export interface WorkerLifecycle {
  /** May rewrite a new worker's spec once its id is known (e.g. create its git worktree). */
  prepare?(id: string, spec: WorkerSpec, dir: string): Promise<WorkerSpec>;
  /** Before each launch, awaited (a throw fails the launch): e.g. to note where the run's output begins. */
  launching?(w: WorkerRecord, dir: string): Promise<void>;
  started?(w: WorkerRecord, dir: string): void;
  /** As a run's end is recorded: why it counts as cpwd's stop (it went over its cost limit), if it does. */
  stoppedBecause?(w: WorkerRecord, dir: string): string | undefined;
  ended?(w: WorkerRecord): void;
  removed?(w: WorkerRecord): Promise<string[]>;
  view?(w: WorkerRecord): Partial<WorkerView>;
}
