// Payload schemas of the supervisor's events (docs/workers.md lists them with their meaning).
import { z } from "zod";

const state = z.enum(["exited", "failed", "timed_out", "stopped"]);

export const workerEventPayloads = {
  "worker.queued": z.object({ spec: z.record(z.string(), z.unknown()) }).passthrough(),
  "worker.starting": z.object({ attempt: z.number().int().nonnegative() }).passthrough(),
  "worker.started": z.object({ pid: z.number().int(), wrapperPid: z.number().int(), startedAtMs: z.number() }).passthrough(),
  "worker.stopping": z.object({ graceMs: z.number().int().nonnegative() }).passthrough(),
  "worker.timeout": z.object({ timeoutMs: z.number().int().nullable() }).passthrough(),
  "worker.exited": z
    .object({ state, code: z.number().int().nullable(), signal: z.string().nullable(), timedOut: z.boolean(), runMs: z.number().nonnegative(), endedAtMs: z.number() })
    .passthrough(),
  // counted: false after a healthy run, which does not count toward the crash loop (absent: true).
  "worker.backoff": z.object({ delayMs: z.number().int().nonnegative(), attempt: z.number().int().positive(), counted: z.boolean().optional() }).passthrough(),
  "worker.fatal": z.object({ reason: z.string(), restarts: z.number().int() }).passthrough(),
  "worker.cancelled": z.object({ reason: z.string() }).passthrough(),
  "worker.removed": z.object({}).passthrough(),
  "worker.claude": z.object({ sessionId: z.string().nullable(), done: z.boolean() }).passthrough(),
};
