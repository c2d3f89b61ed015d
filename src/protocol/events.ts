// The event record (version 1): the envelope every line of events.jsonl has, and the registry of
// per-type payload schemas. Readers keep unknown types and pass them through.
import { z } from "zod";
import { claudeEventPayloads } from "./events-claude.js";
import { daemonEventPayloads } from "./events-daemon.js";
import { hookEventPayloads } from "./events-hooks.js";
import { workerEventPayloads } from "./events-workers.js";

export const EVENT_VERSION = 1;

/** Who produced an event: the daemon itself, or a shim/CLI writing while the daemon was down. */
export const EventSource = z.enum(["daemon", "fallback", "cli", "hook"]);
export type EventSource = z.infer<typeof EventSource>;

/** One line of events.jsonl. `payload` is checked by the type's own schema when the type is known. */
export const EventRecordSchema = z.object({
  v: z.literal(EVENT_VERSION),
  seq: z.number().int().positive(),
  ts: z.string(),
  type: z.string().min(1),
  source: EventSource,
  worker: z.string().optional(),
  session: z.string().optional(),
  payload: z.record(z.string(), z.unknown()),
});
export type EventRecord = z.infer<typeof EventRecordSchema>;

/** What a producer hands the log: the log adds `v`, `seq` and `ts` (unless `ts` is given). */
export interface EventInput {
  type: string;
  source?: EventSource;
  worker?: string;
  session?: string;
  ts?: string;
  payload: Record<string, unknown>;
}

/**
 * Payload schemas by event type. Areas (daemon, workers, hooks, claims) each contribute a map;
 * a type missing here is still a valid event, just not checked beyond the envelope.
 */
export const eventPayloadSchemas: Record<string, z.ZodType<Record<string, unknown>>> = {
  ...daemonEventPayloads,
  ...hookEventPayloads,
  ...workerEventPayloads,
  ...claudeEventPayloads,
};

/** Adds an area's payload schemas to the registry (called once per area at daemon start). */
export function registerEventPayloads(schemas: Record<string, z.ZodType<Record<string, unknown>>>): void {
  Object.assign(eventPayloadSchemas, schemas);
}

/** Checks an input's payload against its type's schema, if the type is known. Throws a ZodError. */
export function checkEventPayload(input: EventInput): void {
  const schema = eventPayloadSchemas[input.type];
  if (schema) schema.parse(input.payload);
}
