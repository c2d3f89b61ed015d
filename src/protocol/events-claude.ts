// Payload schemas of what the daemon reads in Claude workers' runs beyond `worker.claude`
// (docs/claude-workers.md lists them with their meaning).
import { z } from "zod";

export const claudeEventPayloads = {
  /** An action Claude Code refused in a worker's run, read from its stream (one per tool_use_id). */
  "permission.denied": z.object({ tool: z.string(), target: z.string(), toolUseId: z.string(), reason: z.string().optional() }).passthrough(),
};
