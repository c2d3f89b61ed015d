// Payload schemas of claim and digest events, of the hook events that report Claude Code's
// own work (subagents, teammates, tasks), and of tool calls recovered from a transcript. Other `hook.<EventName>` payloads are free-form
// summaries (docs/hooks.md) because new hook events appear with new Claude Code versions.
import { z } from "zod";

/** Fields every native-work hook event may carry: each optional, since Claude Code may drop one. */
const nativeFields = {
  agentId: z.string().optional(),
  agentType: z.string().optional(),
  teammate: z.string().optional(),
  team: z.string().optional(),
};
/** A task event: its id and subject (never its description). */
const taskFields = { ...nativeFields, taskId: z.string().optional(), taskSubject: z.string().optional() };

/** `hook.SubagentStart` … `hook.TeammateIdle`: what `cpwd status` shows of Claude Code's own work. */
export const nativeHookPayloads = {
  // description, toolUseId, background: from the `Agent` call that started it, when the daemon matched one.
  "hook.SubagentStart": z.object({ ...nativeFields, description: z.string().optional(), toolUseId: z.string().optional(), background: z.boolean().optional() }).passthrough(),
  "hook.SubagentStop": z.object(nativeFields).passthrough(),
  "hook.TaskCreated": z.object(taskFields).passthrough(),
  "hook.TaskCompleted": z.object(taskFields).passthrough(),
  "hook.TeammateIdle": z.object(nativeFields).passthrough(),
};

export const hookEventPayloads = {
  // toolUseId: the edit that took the claim (released if that edit did not happen).
  "claim.acquired": z.object({ path: z.string(), atMs: z.number().int(), toolUseId: z.string().optional() }).passthrough(),
  "claim.denied": z.object({ path: z.string(), holder: z.string(), heldMs: z.number().int() }).passthrough(),
  "claim.released": z.object({ path: z.string(), reason: z.string() }).passthrough(),
  "digest.delivered": z.object({ uptoSeq: z.number().int().nonnegative(), workers: z.number().int(), overview: z.boolean() }).passthrough(),
  // A tool call the daemon missed (it was down), read back from the session's transcript: content-free
  // as a hook call's summary. at: the transcript's time of the call; upto: the latest tool call the
  // record covers of the session once this is written (a restarted daemon recovers only past it).
  "hook.recovered": z
    .object({
      tool: z.string(),
      toolUseId: z.string(),
      filePath: z.string().optional(),
      at: z.string().optional(),
      isError: z.boolean().optional(),
      recovered: z.literal(true),
      from: z.literal("transcript"),
      upto: z.string(),
    })
    .passthrough(),
  ...nativeHookPayloads,
};
