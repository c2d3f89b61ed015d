// Handlers of the daemon's own methods: ping, status, daemon.shutdown, events.read/append, and
// events.subscribe/unsubscribe (the subscriptions themselves live in event-subscriptions.ts).
import type { z } from "zod";
import { coreMethods } from "../src/protocol/rpc-core.js";
import { readPage } from "../src/eventlog/read.js";
import { withJsonText } from "../src/rpc/framing.js";
import type { EventLog } from "../src/eventlog/append.js";
import type { EventInput, EventRecord } from "../src/protocol/events.js";
import { exceedsDepth, MAX_JSON_DEPTH } from "../src/protocol/json-bounds.js";
import type { DaemonContext } from "./context.js";
import { EventSubscriptions } from "./event-subscriptions.js";
import type { Handler, MethodGroup } from "./rpc-table.js";

export interface CoreDeps {
  ctx: DaemonContext;
  log: EventLog;
  startedAtMs: number;
  /** Rows for the worker table (empty until the supervisor is wired in). */
  workers: () => Array<Record<string, unknown>>;
  /** Extra top-level fields for `status` from other areas (claims, sessions…). */
  statusExtras: () => Record<string, unknown>;
  /** Begins a graceful shutdown after the current reply is sent. */
  requestShutdown: (reason: string) => void;
  /** `events.read` stops adding events once they would encode to more than this. @default 1 MiB */
  maxReadBytes?: number;
}

/** The default byte bound of one `events.read` result (its events, as JSON). */
export const EVENTS_READ_MAX_BYTES = 1024 * 1024;

/** A handler of one of the core methods. */
type CoreHandler<K extends keyof typeof coreMethods> = Handler<(typeof coreMethods)[K]>;

/** `events.append`'s params as its schema outputs them. */
type AppendParams = z.output<(typeof coreMethods)["events.append"]["params"]>;

/** Who this daemon is, for `status`. */
function daemonInfo(deps: CoreDeps) {
  return {
    pid: process.pid,
    version: deps.ctx.version,
    socket: deps.ctx.paths.socket,
    home: deps.ctx.paths.home,
    startedAt: new Date(deps.startedAtMs).toISOString(),
    uptimeMs: Math.max(0, deps.ctx.clock.now() - deps.startedAtMs),
  };
}

function statusHandler(deps: CoreDeps): CoreHandler<"status"> {
  return () => {
    const s = deps.log.stats();
    return { ...deps.statusExtras(), daemon: daemonInfo(deps), lastSeq: s.lastSeq, eventCount: s.eventCount, workers: deps.workers() };
  };
}

function shutdownHandler(deps: CoreDeps): CoreHandler<"daemon.shutdown"> {
  return (params) => {
    deps.requestShutdown(params?.reason ?? "requested over rpc");
    return { ok: true as const, pid: process.pid };
  };
}

/** `events.append`: an event from a client, recorded as the CLI's. */
function appendHandler(deps: CoreDeps): CoreHandler<"events.append"> {
  // Not async: the log's own promise is the reply's, with no second one wrapped around it.
  return (params) => {
    const input: EventInput = { type: params.type, source: "cli", payload: params.payload };
    if (params.worker !== undefined) input.worker = params.worker;
    if (params.session !== undefined) input.session = params.session;
    return deps.log.append([input]).then(seqOfFirst);
  };
}

/** `events.append`'s result: one function for every call, not a closure made per call. */
const seqOfFirst = (recs: EventRecord[]): { seq: number } => ({ seq: recs[0]!.seq });

/** `events.append`'s `type`, exactly as its schema (src/protocol/rpc-core.ts) has it. */
const EXT_TYPE = /^ext\.[a-z0-9][a-z0-9_.-]{0,63}$/;

/**
 * Whether `raw` is `events.append` params that its schema takes as they are: the one call a client
 * makes per event, where zod's parse allocated more than the rest of the call. Exact and
 * conservative: anything it is unsure of (a missing payload, a `__proto__` key, a long string)
 * goes to the schema, which decides and words the error. Params nest at most MAX_JSON_DEPTH - 1
 * levels, as `bindMethod` checks for every method: the payload, one level in, MAX_JSON_DEPTH - 2.
 */
export function isPlainAppendParams(raw: unknown): raw is AppendParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  const p = raw as Record<string, unknown>;
  let keys = 0;
  for (const k in p) {
    if (k !== "type" && k !== "payload" && k !== "worker" && k !== "session") return false;
    keys++;
  }
  const { type, payload, worker, session } = p;
  if (typeof type !== "string" || !EXT_TYPE.test(type)) return false;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload) || Object.getPrototypeOf(payload) !== Object.prototype) return false;
  if (Object.hasOwn(payload, "__proto__")) return false;
  if (worker !== undefined && (typeof worker !== "string" || worker.length > 64)) return false;
  if (session !== undefined && (typeof session !== "string" || session.length > 200)) return false;
  return keys === 2 + (worker === undefined ? 0 : 1) + (session === undefined ? 0 : 1) && !exceedsDepth(payload, MAX_JSON_DEPTH - 2);
}

/** `events.read`: one page of the log from `fromSeq`, bounded in count and bytes. */
function readHandler(deps: CoreDeps): CoreHandler<"events.read"> {
  return (params, call) => {
    const read = async () => {
      // Only what was durable when the read began: a line being written now may be half there.
      const lastSeq = deps.log.lastSeq;
      const { events, texts, more } = await readPage(deps.ctx.paths.events, {
        fromSeq: params.fromSeq,
        limit: params.limit,
        type: params.type,
        ...deps.log.liveOffsetFor(params.fromSeq),
        upToSeq: lastSeq,
        // Bounded in bytes as well as in count, so one reply (and a batch of them) stays small.
        maxBytes: deps.maxReadBytes ?? EVENTS_READ_MAX_BYTES,
      });
      const nextSeq = more ? events[events.length - 1]!.seq + 1 : Math.max(params.fromSeq, lastSeq + 1);
      // Sent as the record's lines: serialising a 1 MiB page again held the daemon ~5 ms at once.
      return withJsonText({ events, nextSeq, lastSeq }, `{"events":[${texts.join(",")}],"nextSeq":${nextSeq},"lastSeq":${lastSeq}}`);
    };
    // A page is up to 1 MiB: reads take turns at the server's gate, so a client pipelining
    // hundreds of them (and not reading the answers) never has them all in memory at once.
    return call.runHeavy ? call.runHeavy(read) : read();
  };
}

/** The core methods' specs and handlers, bound to this daemon. */
export function coreMethodGroup(deps: CoreDeps): MethodGroup<typeof coreMethods> {
  const subscriptions = new EventSubscriptions({
    log: deps.log,
    file: deps.ctx.paths.events,
    maxBatchBytes: deps.maxReadBytes ?? EVENTS_READ_MAX_BYTES,
    warn: (obj, msg) => deps.ctx.log.warn(obj, msg),
  });
  return {
    specs: coreMethods,
    fastParams: { "events.append": isPlainAppendParams },
    handlers: {
      ping: () => ({ pong: true as const, pid: process.pid, version: deps.ctx.version }),
      status: statusHandler(deps),
      "daemon.shutdown": shutdownHandler(deps),
      "events.append": appendHandler(deps),
      "events.read": readHandler(deps),
      "events.subscribe": (params, call) => subscriptions.subscribe(params, call),
      "events.unsubscribe": (params, call) => {
        subscriptions.unsubscribe(params.subscription, call);
        return { ok: true as const };
      },
    },
  };
}
