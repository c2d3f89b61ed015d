// The `--worktree` worker a command names (W3 or a name): its state and the worktree its meta
// records, asked of the daemon, or folded from the record on disk (cli/record-state.ts) when the
// daemon is not running.
import { existsSync } from "node:fs";
import { recordedWorktree, type Worktree } from "../daemon/claude/worktree.js";
import { CpwdError, ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { WorkerState } from "../src/protocol/workers.js";
import { connect } from "../src/rpc/client.js";
import type { CliContext } from "./context.js";
import { cliPaths } from "./daemon-client.js";
import { namedWorkers, readRecordWorkers } from "./record-state.js";

/** What diff and merge need of a worker. */
interface WorkerFacts {
  id: string;
  name: string | null;
  state: WorkerState;
  meta: Record<string, unknown>;
}

export interface WorktreeTarget extends WorkerFacts {
  worktree: Worktree;
  /** True when read from the record on disk (the daemon is down): the state is the last one recorded. */
  fromLog: boolean;
}

/** The workers `target` names, from the daemon; null when it is not running. */
async function askDaemon(ctx: CliContext, target: string): Promise<WorkerFacts[] | null> {
  let client;
  try {
    client = await connect(cliPaths(ctx).socket, { connectTimeoutMs: 1_000 });
  } catch (err) {
    if (isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) return null;
    throw err;
  }
  try {
    return (await client.call("worker.get", { target })).workers as unknown as WorkerFacts[];
  } finally {
    client.close();
  }
}

/** The workers `target` names as the record on disk has them (as `cpwd replay` folds it). */
async function readRecord(ctx: CliContext, target: string): Promise<WorkerFacts[]> {
  const named = namedWorkers((await readRecordWorkers(cliPaths(ctx).events)).state, [target]);
  if (named.length === 0) throw new CpwdError(ErrorCode.NotFound, `no worker ${target} (an id like W3, or a name)`);
  return named;
}

/**
 * The one worker `target` names, which must have been started with `--worktree` and whose worktree
 * folder must still exist. Throws a CpwdError whose message says what is wrong.
 */
export async function worktreeTarget(ctx: CliContext, target: string): Promise<WorktreeTarget> {
  if (target === "all") throw new CpwdError(ErrorCode.InvalidArgument, "name one worker (W3 or a name), not all");
  const fromDaemon = await askDaemon(ctx, target);
  const named = fromDaemon ?? (await readRecord(ctx, target));
  if (named.length !== 1) throw new CpwdError(ErrorCode.InvalidArgument, `${target} names ${named.length} workers (${named.map((w) => w.id).join(", ")}); use an id`);
  const w = named[0]!;
  const worktree = recordedWorktree(w.meta);
  if (!worktree) throw new CpwdError(ErrorCode.InvalidArgument, `${w.id} has no worktree of its own: it was not started with \`cpwd claude --worktree\``);
  if (!existsSync(worktree.path)) {
    throw new CpwdError(ErrorCode.NotFound, `${w.id}'s worktree ${worktree.path} is gone; its branch ${worktree.branch}, if kept, is in ${worktree.repo}`);
  }
  return { id: w.id, name: w.name, state: w.state, meta: w.meta, worktree, fromLog: fromDaemon === null };
}
