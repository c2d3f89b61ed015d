// `cpwd claude --resume W3 "PROMPT"` and `--fork W3 "PROMPT"`: a Claude worker's session (the id the
// daemon read from its stream) continued, as a new run of W3 itself (`worker.rerun`: its folder or
// worktree, its environment and policies) or in a new worker (Claude Code's `--fork-session`: a
// new session id). A follow-up keeps W3's Claude options — the model, the permission mode,
// `--max-cost`, the options given after `--` — unless given again. And `--max-cost`, for every run.
import { accessSync, constants } from "node:fs";
import { FINAL_STATES, type WorkerView } from "../src/protocol/workers.js";
import type { RpcClient } from "../src/rpc/client.js";
import { usageError } from "./args.js";

/** A follow-up asked for: which kind, and of which worker. */
export interface FollowUp {
  kind: "resume" | "fork";
  target: string;
}

/** Options that shape a new worker: `--fork` takes them all, `--resume` none (W3 keeps its own). */
const NEW_WORKER_FLAGS = ["name", "cwd", "worktree", "env", "timeout", "restart", "max-restarts", "restart-window", "min-uptime", "backoff", "grace"];

/** The follow-up the flags ask for, if any; usage errors for both at once, or --resume with a new worker's options. */
export function followUpOf(flags: Record<string, unknown>): FollowUp | null {
  const resume = flags.resume as string | undefined;
  const fork = flags.fork as string | undefined;
  if (resume !== undefined && fork !== undefined) throw usageError("--resume continues a worker, --fork starts a new one from its session: give one of them");
  if (resume === undefined) return fork === undefined ? null : { kind: "fork", target: fork };
  const extra = NEW_WORKER_FLAGS.find((f) => flags[f] !== undefined);
  if (extra !== undefined) {
    throw usageError(`--${extra} shapes a new worker, and --resume ${resume} continues ${resume} as it is (its folder, environment and policies); --fork ${resume} starts a new worker from its session`);
  }
  return { kind: "resume", target: resume };
}

/** `--max-cost USD` (a leading `$` allowed): an amount above 0; undefined when not given. */
export function parseMaxCost(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(String(v).replace(/^\$/, ""));
  if (!Number.isFinite(n) || n <= 0) throw usageError(`--max-cost must be an amount in USD above 0, e.g. 2.50 (got ${String(v)})`);
  return n;
}

/** Claude Code's own limit for a run, passed beside the daemon's (which reads meta.maxCostUsd). */
export function budgetOptions(maxCostUsd: number | undefined): string[] {
  return maxCostUsd === undefined ? [] : ["--max-budget-usd", String(maxCostUsd)];
}

/** The prompt as meta keeps it: its first 200 characters. */
export function promptMeta(prompt: string): string {
  return prompt.length > 200 ? `${prompt.slice(0, 199)}…` : prompt;
}

/** The worker a follow-up continues, with the session its stream reported. */
export interface SessionSource {
  id: string;
  sessionId: string;
  /** W3's command: its binary (an absolute path) and the Claude options it ran with. */
  command: string[];
  cwd: string;
  meta: Record<string, unknown>;
}

/**
 * Reads the worker and refuses, in a sentence, one that is not a Claude worker, has not ended (its
 * session is still being written), never reported a session, or whose binary is gone.
 */
export async function sessionSource(client: RpcClient, f: FollowUp): Promise<SessionSource> {
  const { workers } = await client.call("worker.get", { target: f.target });
  if (workers.length !== 1) throw new Error(`${f.target} names ${workers.length} workers: give one by its id`);
  const w = workers[0] as unknown as WorkerView;
  const flag = `--${f.kind} ${w.id}`;
  if (w.meta.kind !== "claude") throw new Error(`${w.id} is not a Claude worker: ${flag} continues the session of a worker started with cpwd claude`);
  if (!FINAL_STATES.has(w.state)) throw new Error(`${w.id} is ${w.state}: ${flag} can continue its session once it has ended (\`cpwd stop ${w.id}\` ends it now)`);
  const sessionId = (w.claude as { sessionId?: unknown } | null | undefined)?.sessionId;
  if (typeof sessionId !== "string") throw new Error(`${w.id} has no Claude session to continue: its output never reported one (see \`cpwd logs ${w.id}\`)`);
  const bin = w.command[0] ?? "";
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`${w.id} ran ${bin}, which is no longer there to continue its session`);
  }
  return { id: w.id, sessionId, command: w.command, cwd: w.cwd, meta: w.meta };
}

/** Options each run sets afresh, dropped from the earlier command with their value. */
const SET_PER_RUN = ["--resume", "--permission-mode", "--max-budget-usd"];

/**
 * The Claude Code options of W3's command to carry into its follow-up: everything after its prompt,
 * less what the follow-up sets afresh — the session flags, the permission mode, the budget, and
 * the options in `regiven` (`--model`, `--max-turns` when given again), each with its value.
 */
export function carriedOptions(command: string[], regiven: string[]): string[] {
  const p = command.indexOf("-p");
  if (p < 0) return [];
  const drop = new Set([...SET_PER_RUN, ...regiven]);
  const out: string[] = [];
  const rest = command.slice(p + 2);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--fork-session") continue;
    if (drop.has(arg)) i++;
    else out.push(arg);
  }
  return out;
}

/** Where a fork runs unless told: W3's folder, or for a `--worktree` W3 a new worktree of the same repository. */
export function forkPlacement(flags: Record<string, unknown>, src: SessionSource): Record<string, unknown> {
  if (flags.cwd !== undefined) return flags;
  const repo = (src.meta.worktree as { repo?: unknown } | undefined)?.repo;
  return typeof repo === "string" ? { ...flags, cwd: repo, worktree: true } : { ...flags, cwd: src.cwd };
}
