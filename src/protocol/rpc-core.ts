// RPC contracts of the daemon's own methods: ping, status, daemon.shutdown, events.read/append,
// events.subscribe/unsubscribe, and the notification a subscription sends (events.batch).
import { z } from "zod";
import type { MethodSpec } from "./rpc-method-spec.js";

/** Params may be omitted (undefined), or an object; never positional arrays for cpwd's methods. */
const NoParams = z.object({}).strict().optional();

export const DaemonInfo = z.object({
  pid: z.number().int(),
  version: z.string(),
  socket: z.string(),
  home: z.string(),
  startedAt: z.string(),
  uptimeMs: z.number().int().nonnegative(),
});

export const coreMethods = {
  ping: {
    summary: "Liveness probe; answers the daemon's pid and version.",
    params: NoParams,
    result: z.object({ pong: z.literal(true), pid: z.number().int(), version: z.string() }),
  },
  status: {
    summary: "The daemon, its event log and its workers, for `cpwd status`.",
    params: NoParams,
    result: z
      .object({
        daemon: DaemonInfo,
        lastSeq: z.number().int().nonnegative(),
        eventCount: z.number().int().nonnegative(),
        workers: z.array(z.record(z.string(), z.unknown())),
      })
      .passthrough(),
  },
  "daemon.shutdown": {
    summary: "Graceful shutdown: stop accepting, finish in-flight requests, write daemon.stopped, exit. Workers keep running.",
    params: z.object({ reason: z.string().max(200).optional() }).strict().optional(),
    result: z.object({ ok: z.literal(true), pid: z.number().int() }),
  },
  "events.read": {
    summary: "Events with seq ≥ fromSeq, oldest first, at most `limit` and about 1 MiB; `nextSeq` continues the read.",
    params: z
      .object({
        fromSeq: z.number().int().nonnegative().default(0),
        limit: z.number().int().min(1).max(10_000).default(1_000),
        type: z.string().optional().describe("only events of this type, or of this prefix when it ends in '.'"),
      })
      .strict()
      .optional()
      .transform((p) => p ?? { fromSeq: 0, limit: 1_000 }),
    result: z.object({
      events: z.array(z.record(z.string(), z.unknown())),
      nextSeq: z.number().int().nonnegative(),
      lastSeq: z.number().int().nonnegative(),
    }),
  },
  "events.append": {
    summary: "Records an event of an outside tool (type under `ext.`); answers once it is durable.",
    params: z
      .object({
        type: z.string().regex(/^ext\.[a-z0-9][a-z0-9_.-]{0,63}$/, "must be `ext.` followed by lowercase letters, digits, '_', '-' or '.'"),
        payload: z.record(z.string(), z.unknown()).default({}),
        worker: z.string().max(64).optional(),
        session: z.string().max(200).optional(),
      })
      .strict(),
    result: z.object({ seq: z.number().int().positive() }),
  },
  "events.subscribe": {
    summary: "Streams durable events on this connection as `events.batch` notifications: from `fromSeq` (default: only new ones), filtered.",
    params: z
      .object({
        fromSeq: z.number().int().nonnegative().optional().describe("first seq to send; default: the next event to be recorded"),
        type: z.string().max(200).optional().describe("only events of this type, or of this prefix when it ends in '.'"),
        worker: z.string().max(64).optional().describe("only events of this worker id"),
        session: z.string().max(200).optional().describe("only events of this Claude Code session"),
      })
      .strict()
      .optional()
      .transform((p) => p ?? {}),
    result: z.object({
      subscription: z.number().int().positive(),
      /** The last durable seq when the subscription began. */
      lastSeq: z.number().int().nonnegative(),
    }),
  },
  "events.unsubscribe": {
    summary: "Ends a subscription of this connection; no `events.batch` for it follows the reply.",
    params: z.object({ subscription: z.number().int().positive() }).strict(),
    result: z.object({ ok: z.literal(true) }),
  },
} satisfies Record<string, MethodSpec>;

/** Most subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 16;

/** Notifications the daemon sends (no id, never answered): their params, for docs and clients. */
export const coreNotifications = {
  "events.batch": {
    summary: "Durable events for a subscription, in seq order, at most about 1 MiB a notification.",
    params: z.object({
      subscription: z.number().int().positive(),
      events: z.array(z.record(z.string(), z.unknown())),
    }),
  },
} satisfies Record<string, { summary: string; params: z.ZodType }>;

export type NotificationName = keyof typeof coreNotifications;
export type NotificationParams<N extends NotificationName> = z.infer<(typeof coreNotifications)[N]["params"]>;
