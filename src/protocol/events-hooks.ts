// Payload schemas of claim and digest events. `hook.<EventName>` payloads are free-form summaries
// (docs/hooks.md) because new hook events appear with new Claude Code versions.
import { z } from "zod";

export const hookEventPayloads = {
  // toolUseId: the edit that took the claim (released if that edit did not happen).
  "claim.acquired": z.object({ path: z.string(), atMs: z.number().int(), toolUseId: z.string().optional() }).passthrough(),
  "claim.denied": z.object({ path: z.string(), holder: z.string(), heldMs: z.number().int() }).passthrough(),
  "claim.released": z.object({ path: z.string(), reason: z.string() }).passthrough(),
  "digest.delivered": z.object({ uptoSeq: z.number().int().nonnegative(), workers: z.number().int(), overview: z.boolean() }).passthrough(),
};
