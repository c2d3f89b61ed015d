// RPC contracts of the supervisor: spawn, list, get, stop, kill, restart, rerun, remove.
import { z } from "zod";
import type { MethodSpec } from "./rpc-method-spec.js";
import { WorkerSpecSchema } from "./workers.js";

/** A worker id (W3), a name, or `all` where the method allows it. */
const Target = z.string().min(1).max(64);
const Views = z.object({ workers: z.array(z.record(z.string(), z.unknown())) });

export const workerMethods = {
  "worker.spawn": {
    summary: "Queues a worker (argv, never a shell); answers its view once `worker.queued` is durable.",
    params: WorkerSpecSchema,
    result: z.object({ worker: z.record(z.string(), z.unknown()) }),
  },
  "worker.list": {
    summary: "Every worker the supervisor knows, by id.",
    params: z.object({}).strict().optional(),
    result: Views,
  },
  "worker.get": {
    summary: "One worker by id or name.",
    params: z.object({ target: Target }).strict(),
    result: Views,
  },
  "worker.stop": {
    summary: "SIGTERM to the worker's process group, SIGKILL after `graceMs` (default: the worker's grace); queued or backing-off workers are cancelled.",
    params: z.object({ target: Target, graceMs: z.number().int().min(0).max(24 * 3600_000).optional() }).strict(),
    result: Views,
  },
  "worker.kill": {
    summary: "SIGKILL to the worker's process group at once.",
    params: z.object({ target: Target }).strict(),
    result: Views,
  },
  "worker.restart": {
    summary: "Stops the worker if it runs, then queues it again (a user restart does not count towards the crash-loop limit).",
    params: z.object({ target: Target }).strict(),
    result: Views,
  },
  "worker.rerun": {
    summary:
      "Starts a new run of an ended worker with a new command (`argv`) and, if given, new `meta` (replacing it whole); name, folder, environment and policies stay. Refused while the worker has not ended.",
    params: z.object({ target: Target, argv: WorkerSpecSchema.shape.argv, meta: z.record(z.string(), z.unknown()).optional() }).strict(),
    result: z.object({ worker: z.record(z.string(), z.unknown()) }),
  },
  "worker.remove": {
    summary:
      "Forgets ended workers and deletes their folders; `force` stops running ones first. A target naming several workers (all) tries every one and lists those it could not remove in `failed`.",
    params: z.object({ target: Target, force: z.boolean().default(false) }).strict(),
    result: z.object({
      removed: z.array(z.string()),
      notes: z.array(z.string()),
      failed: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })).default([]),
    }),
  },
} satisfies Record<string, MethodSpec>;
