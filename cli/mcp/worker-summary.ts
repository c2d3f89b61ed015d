// A worker as the MCP tools return it: the facts a conductor acts on (state, how it ended, its
// Claude result and cost, its worktree), with the zod shape the tools declare as their output.
import { z } from "zod";
import { FINAL_STATES, type WorkerState, type WorkerView } from "../../src/protocol/workers.js";

/** The longest command line returned: a Claude worker's argv holds its whole prompt. */
const COMMAND_MAX_CHARS = 300;

export const WorkerSummarySchema = z.object({
  id: z.string().describe("the worker's id, e.g. W3"),
  name: z.string().nullable(),
  state: z.string().describe("queued, starting, running, stopping, backoff, or ended: exited, failed, timed_out, stopped, fatal"),
  ended: z.boolean().describe("true once the worker is in an ended state"),
  kind: z.string().describe("claude for a Claude Code worker, command for any other"),
  command: z.string(),
  cwd: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  runMs: z.number().nullable(),
  restarts: z.number(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  reason: z.string().nullable(),
  parentSession: z.string().nullable().describe("the Claude Code session that started it"),
  worktree: z.object({ path: z.string(), branch: z.string(), baseCommit: z.string() }).nullable(),
  claude: z.record(z.string(), z.unknown()).nullable().describe("a Claude worker's session, turns, costUsd, isError, subtype and result"),
});
export type WorkerSummary = z.infer<typeof WorkerSummarySchema>;

/** Whether a state is an ended one (nothing happens after it unless someone acts). */
export function isEndedState(state: string): boolean {
  return FINAL_STATES.has(state as WorkerState);
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** A quoted command line, cut to COMMAND_MAX_CHARS. */
function commandLine(argv: string[]): string {
  const line = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return line.length > COMMAND_MAX_CHARS ? `${line.slice(0, COMMAND_MAX_CHARS - 1)}…` : line;
}

/** The worker's worktree as its meta records it, or null. */
function worktreeOf(meta: Record<string, unknown>): WorkerSummary["worktree"] {
  const wt = meta.worktree as Record<string, unknown> | undefined;
  if (!wt || typeof wt.path !== "string") return null;
  return { path: wt.path, branch: String(wt.branch ?? ""), baseCommit: String(wt.baseCommit ?? "") };
}

/** The summary of a view `worker.get` / `worker.list` returned. */
export function toSummary(view: WorkerView): WorkerSummary {
  const meta = view.meta ?? {};
  return {
    id: view.id,
    name: view.name,
    state: view.state,
    ended: isEndedState(view.state),
    kind: meta.kind === "claude" ? "claude" : "command",
    command: commandLine(view.command),
    cwd: view.cwd,
    startedAt: view.startedAt,
    endedAt: view.endedAt,
    runMs: view.runMs,
    restarts: view.restarts,
    exitCode: view.exitCode,
    signal: view.signal,
    timedOut: view.timedOut,
    reason: view.reason,
    parentSession: str(meta.parentSession),
    worktree: worktreeOf(meta),
    claude: view.claude ?? null,
  };
}
