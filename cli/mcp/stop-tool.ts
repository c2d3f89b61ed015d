// `stop_worker`: stops a worker (SIGTERM to its process group, SIGKILL after the grace), or kills
// it at once, as `cpwd stop` / `cpwd kill` do, with their error messages.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { WorkerView } from "../../src/protocol/workers.js";
import { parseDuration } from "../format/durations.js";
import { cliError, structured, type ToolDeps } from "./tool-kit.js";
import { toSummary, WorkerSummarySchema } from "./worker-summary.js";

const stopShape = {
  worker: z.string().min(1).describe("a worker id (W3), a name, or all"),
  grace: z.string().optional().describe("time between SIGTERM and SIGKILL (500ms, 10s…); default: the worker's own"),
  kill: z.boolean().optional().describe("SIGKILL at once instead"),
};

export function registerStopTool(server: McpServer, { link }: ToolDeps): void {
  server.registerTool(
    "stop_worker",
    {
      description: "Stop a worker (its whole process group: SIGTERM, then SIGKILL after a grace), or kill it at once. It stays listed, ended as stopped.",
      inputSchema: stopShape,
      outputSchema: { workers: z.array(WorkerSummarySchema) },
    },
    async (args) => {
      const action = args.kill ? "kill" : "stop";
      let graceMs: number | undefined;
      try {
        if (args.grace !== undefined) graceMs = parseDuration("grace", args.grace);
      } catch (err) {
        throw cliError(`cpwd ${action}`, err);
      }
      const client = await link.client();
      try {
        const r = args.kill
          ? await client.call("worker.kill", { target: args.worker })
          : await client.call("worker.stop", { target: args.worker, ...(graceMs !== undefined ? { graceMs } : {}) });
        return structured({ workers: r.workers.map((w) => toSummary(w as WorkerView)) });
      } catch (err) {
        throw cliError(`cpwd ${action} ${args.worker}`, err);
      }
    },
  );
}
