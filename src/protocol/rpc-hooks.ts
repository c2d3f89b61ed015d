// RPC contracts of the Claude Code integration: `hook.handle` (the shim's one call), and claims.
import { z } from "zod";
import type { MethodSpec } from "./rpc-method-spec.js";
import { AbsolutePathSchema } from "./workers.js";

/** Hook stdin: the fields cpwd reads are checked; everything else is kept (Claude Code adds fields often). */
export const HookInputSchema = z
  .object({
    hook_event_name: z.string().min(1).max(100),
    session_id: z.string().max(4096).optional(),
    cwd: z.string().max(4096).optional(),
    tool_name: z.string().max(200).optional(),
    tool_input: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export const ClaimView = z.object({
  path: z.string(),
  worker: z.string(),
  name: z.string().optional(),
  session: z.string().optional(),
  acquiredAt: z.string(),
  heldMs: z.number().int().nonnegative(),
});

export const hookMethods = {
  "hook.handle": {
    summary: "A Claude Code hook event from the shim; answers what the shim prints (allow/deny, additionalContext).",
    params: z
      .object({
        event: HookInputSchema,
        // Not checked for shape: it comes from an environment variable, and a bad one must not
        // turn a hook call into an error (which the shim would answer with "allow"). The daemon
        // treats anything but the id of a live worker as a conductor.
        workerId: z.string().max(200).optional(),
      })
      .strict(),
    result: z.object({ output: z.record(z.string(), z.unknown()).optional() }),
  },
  "claims.list": {
    summary: "Files held by workers, oldest first.",
    params: z.object({}).strict().optional(),
    result: z.object({ claims: z.array(ClaimView) }),
  },
  "claims.release": {
    summary: "Releases a file (`path`) or every file a worker holds (`worker`).",
    params: z
      .object({ path: AbsolutePathSchema.optional(), worker: z.string().min(1).optional() })
      .strict()
      .refine((p) => (p.path === undefined) !== (p.worker === undefined), "give exactly one of path or worker"),
    result: z.object({ released: z.array(z.string()) }),
  },
} satisfies Record<string, MethodSpec>;
