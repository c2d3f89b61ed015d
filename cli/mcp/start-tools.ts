// The tools that start workers: `spawn_worker` (any command, as `cpwd spawn`) and `claude_worker`
// (a headless Claude Code session, as `cpwd claude`). Both build their request with the CLI's own
// code, so options are checked and errors worded exactly as on the command line, and both record
// the calling Claude Code session (CLAUDE_CODE_SESSION_ID) as the worker's parent.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { WorkerView } from "../../src/protocol/workers.js";
import { run as claudeCommand } from "../commands/worker-claude.js";
import { spawnParams } from "../commands/worker-spawn.js";
import { captureCli, cliMessage } from "./cli-capture.js";
import { cliError, structured, type ToolDeps } from "./tool-kit.js";
import { toSummary, WorkerSummarySchema } from "./worker-summary.js";

const DURATION = "a duration: 500ms, 10s, 30m, 2h";

/** Options both tools share, as `cpwd spawn` takes them. */
const commonShape = {
  name: z.string().optional().describe("a name to refer to it by (letters, digits, . _ -); ids like W3 and `all` are reserved"),
  cwd: z.string().optional().describe("the folder it runs in, relative to this session's folder (default: that folder)"),
  timeout: z.string().optional().describe(`stop it after this long (${DURATION}); default: no limit`),
  env: z.record(z.string(), z.string()).optional().describe("variables added to this session's environment"),
};

const spawnShape = {
  command: z.array(z.string()).min(1).describe('the command and its arguments, run without a shell (["sh", "-c", "…"] for one)'),
  ...commonShape,
  restart: z.enum(["never", "on-failure", "always"]).optional().describe("restart policy (default never)"),
  max_restarts: z.number().int().min(0).optional().describe("more restarts than this within restart_window makes it fatal (default 5)"),
  restart_window: z.string().optional().describe(`${DURATION} (default 10m)`),
  min_uptime: z.string().optional().describe(`a run this long counts as healthy and resets the backoff (${DURATION}, default 30s)`),
  backoff: z.string().optional().describe("first..largest delay between restarts, e.g. 1s..60s"),
  grace: z.string().optional().describe(`time between SIGTERM and SIGKILL when it is stopped (${DURATION}, default 10s)`),
};

const claudeShape = {
  prompt: z.string().min(1).describe("the task, self-contained: the worker does not see this conversation"),
  ...commonShape,
  worktree: z.boolean().optional().describe("run in a git worktree of its own on branch cpwd/W<N> (see worker_diff)"),
  model: z.string().optional().describe("Claude Code's --model: an alias (sonnet, opus) or a full model name; default Claude Code's own"),
  permission_mode: z.string().optional().describe("Claude Code's --permission-mode, e.g. plan; default acceptEdits (edits files), or claudePermissionMode from cpwd's config"),
  max_turns: z.number().int().min(1).optional().describe("Claude Code's --max-turns: the most agentic turns before it stops; default no limit"),
  max_cost_usd: z.number().positive().optional().describe("stop the worker once it has cost this much (USD)"),
  claude_options: z.array(z.string()).optional().describe('further claude options, passed as they are, e.g. ["--allowedTools", "Bash(npm test:*)"]'),
};

const startedShape = { worker: WorkerSummarySchema };

/** `cpwd spawn`'s flags from the tool's arguments (values as the command line would give them). */
function spawnFlags(a: z.infer<z.ZodObject<typeof spawnShape>>): Record<string, unknown> {
  const flags: Record<string, unknown> = {
    name: a.name,
    cwd: a.cwd,
    timeout: a.timeout,
    restart: a.restart,
    "max-restarts": a.max_restarts === undefined ? undefined : String(a.max_restarts),
    "restart-window": a.restart_window,
    "min-uptime": a.min_uptime,
    backoff: a.backoff,
    grace: a.grace,
    env: a.env === undefined ? undefined : Object.entries(a.env).map(([k, v]) => `${k}=${v}`),
  };
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
}

/** `cpwd claude`'s argv from the tool's arguments. */
export function claudeArgv(a: z.infer<z.ZodObject<typeof claudeShape>>): string[] {
  const argv: string[] = [];
  const opt = (flag: string, v: string | number | undefined) => v !== undefined && argv.push(flag, String(v));
  opt("--name", a.name);
  opt("--cwd", a.cwd);
  opt("--timeout", a.timeout);
  opt("--model", a.model);
  opt("--permission-mode", a.permission_mode);
  opt("--max-turns", a.max_turns);
  opt("--max-cost", a.max_cost_usd);
  if (a.worktree) argv.push("--worktree");
  for (const [k, v] of Object.entries(a.env ?? {})) argv.push("--env", `${k}=${v}`);
  // The command line would read a prompt starting with '-' as an option; a space before it does not
  // change what it asks.
  argv.push(a.prompt.startsWith("-") ? ` ${a.prompt}` : a.prompt);
  if (a.claude_options?.length) argv.push("--", ...a.claude_options);
  return argv;
}

export function registerStartTools(server: McpServer, deps: ToolDeps): void {
  const { ctx, link } = deps;
  server.registerTool(
    "spawn_worker",
    {
      description: "Start any command as a cpwd worker, in the background; returns at once with its id. It outlives this session. Gather it with wait_for_workers.",
      inputSchema: spawnShape,
      outputSchema: startedShape,
    },
    async (args) => {
      const parent = ctx.env.CLAUDE_CODE_SESSION_ID;
      let params;
      try {
        params = spawnParams(spawnFlags(args), args.command, ctx, parent ? { parentSession: parent } : {});
      } catch (err) {
        throw cliError("cpwd spawn", err);
      }
      const client = await link.client();
      const { worker } = await client.call("worker.spawn", params).catch((err: unknown) => Promise.reject(cliError("cpwd spawn", err)));
      return structured({ worker: toSummary(worker as WorkerView) });
    },
  );
  server.registerTool(
    "claude_worker",
    {
      description:
        "Start a headless Claude Code session (`claude -p PROMPT`) as a cpwd worker, in the background; returns at once with its id. Use worktree for work that edits files, so parallel workers do not collide. Gather it with wait_for_workers: its result and cost come back.",
      inputSchema: claudeShape,
      outputSchema: startedShape,
    },
    async (args) => {
      await link.ensureRunning();
      const r = await captureCli("claude", claudeCommand, claudeArgv(args), ctx);
      if (r.code !== 0) throw new Error(cliMessage(r));
      const id = /\bW\d+\b/.exec(r.stdout)?.[0];
      if (!id) throw new Error(`cpwd claude printed no worker id: ${r.stdout.trim()}`);
      const client = await link.client();
      const { workers } = await client.call("worker.get", { target: id });
      return structured({ worker: toSummary(workers[0] as WorkerView) });
    },
  );
}
