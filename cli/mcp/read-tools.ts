// The tools that read: `list_workers`, `worker_status`, `worker_logs` (as `cpwd logs`: a Claude
// worker's output as a readable transcript) and `worker_diff` (as `cpwd diff`).
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { WorkerView } from "../../src/protocol/workers.js";
import { run as diffCommand } from "../commands/worker-diff.js";
import { run as logsCommand } from "../commands/worker-logs.js";
import { captureCli, cliMessage } from "./cli-capture.js";
import { capLines, cliError, structured, type ToolDeps } from "./tool-kit.js";
import { toSummary, WorkerSummarySchema } from "./worker-summary.js";

/** The most text one logs or diff result carries: enough to read, not a flood of the context. */
const TEXT_MAX_CHARS = 60_000;

const TARGET = z.string().min(1).describe("a worker id (W3) or name");
const workersShape = { workers: z.array(WorkerSummarySchema) };

const logsShape = {
  worker: TARGET,
  lines: z.number().int().min(0).max(2_000).optional().describe("how many of the last lines (default 100)"),
  stream: z.enum(["stdout", "stderr", "both"]).optional().describe("which output (default stdout)"),
  raw: z.boolean().optional().describe("a Claude worker's stream-json as it is, instead of the transcript"),
};

const logsOutShape = {
  worker: z.string(),
  stdout: z.array(z.string()).describe("its last stdout lines; for a Claude worker, the transcript"),
  stderr: z.array(z.string()),
  truncated: z.boolean().describe("older lines were left out to keep the result small"),
};

const diffShape = { worker: TARGET, stat: z.boolean().optional().describe("git's summary (files and counts) instead of the diff") };

const diffOutShape = {
  worker: z.string(),
  diff: z.array(z.string()).describe("`git diff` against the commit the worker started from, its new files included"),
  note: z.string().nullable().describe("e.g. that there are no changes"),
  truncated: z.boolean(),
};

function logsArgv(a: z.infer<z.ZodObject<typeof logsShape>>): string[] {
  const argv = [a.worker, "-n", String(a.lines ?? 100)];
  if (a.stream === "stderr") argv.push("--stderr");
  if (a.stream === "both") argv.push("--both");
  if (a.raw) argv.push("--raw");
  return argv;
}

function registerListTools(server: McpServer, { link }: ToolDeps): void {
  server.registerTool(
    "list_workers",
    { description: "Every cpwd worker: state, how it ended, a Claude worker's result and cost.", outputSchema: workersShape },
    async () => {
      const client = await link.client();
      const { workers } = await client.call("worker.list").catch((err: unknown) => Promise.reject(cliError("cpwd status", err)));
      return structured({ workers: workers.map((w) => toSummary(w as WorkerView)) });
    },
  );
  server.registerTool(
    "worker_status",
    {
      description: "One worker's state (or several: a name used twice, or `all`), how it ended, a Claude worker's result and cost.",
      inputSchema: { worker: z.string().min(1).describe("a worker id (W3), a name, or all") },
      outputSchema: workersShape,
    },
    async ({ worker }) => {
      const client = await link.client();
      const { workers } = await client.call("worker.get", { target: worker }).catch((err: unknown) => Promise.reject(cliError("cpwd status", err)));
      return structured({ workers: workers.map((w) => toSummary(w as WorkerView)) });
    },
  );
}

function registerTextTools(server: McpServer, { ctx, link }: ToolDeps): void {
  server.registerTool(
    "worker_logs",
    { description: "The last lines of a worker's output; a Claude worker's as a readable transcript (tool calls, refusals, result).", inputSchema: logsShape, outputSchema: logsOutShape },
    async (args) => {
      await link.ensureRunning();
      const r = await captureCli("logs", logsCommand, logsArgv(args), ctx);
      if (r.code !== 0) throw new Error(cliMessage(r));
      // With --stderr or --both, the stderr log is what `cpwd logs` printed on its stderr.
      const out = capLines(args.stream === "stderr" ? "" : r.stdout, TEXT_MAX_CHARS, "tail");
      const err = capLines(args.stream === "stderr" || args.stream === "both" ? r.stderr : "", TEXT_MAX_CHARS, "tail");
      return structured({ worker: args.worker, stdout: out.lines, stderr: err.lines, truncated: out.truncated || err.truncated });
    },
  );
  server.registerTool(
    "worker_diff",
    { description: "A worktree worker's changes since it started (committed, uncommitted and new files), as `git diff`.", inputSchema: diffShape, outputSchema: diffOutShape },
    async (args) => {
      const r = await captureCli("diff", diffCommand, [args.worker, ...(args.stat ? ["--stat"] : [])], ctx);
      if (r.code !== 0) throw new Error(cliMessage(r));
      const { lines, truncated } = capLines(r.stdout, TEXT_MAX_CHARS, "head");
      return structured({ worker: args.worker, diff: lines, note: r.stderr.trim() || null, truncated });
    },
  );
}

export function registerReadTools(server: McpServer, deps: ToolDeps): void {
  registerListTools(server, deps);
  registerTextTools(server, deps);
}
