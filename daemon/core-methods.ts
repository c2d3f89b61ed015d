// Handlers of the daemon's own methods: ping, status, daemon.shutdown, events.read.
import { coreMethods } from "../src/protocol/methods.js";
import { readRange } from "../src/eventlog/read.js";
import type { EventLog } from "../src/eventlog/append.js";
import type { DaemonContext } from "./context.js";
import type { MethodGroup } from "./methods.js";

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
}

export function coreMethodGroup(d: CoreDeps): MethodGroup<typeof coreMethods> {
  const info = () => ({
    pid: process.pid,
    version: d.ctx.version,
    socket: d.ctx.paths.socket,
    home: d.ctx.paths.home,
    startedAt: new Date(d.startedAtMs).toISOString(),
    uptimeMs: Math.max(0, d.ctx.clock.now() - d.startedAtMs),
  });
  return {
    specs: coreMethods,
    handlers: {
      ping: () => ({ pong: true as const, pid: process.pid, version: d.ctx.version }),
      status: () => {
        const s = d.log.stats();
        return { ...d.statusExtras(), daemon: info(), lastSeq: s.lastSeq, eventCount: s.eventCount, workers: d.workers() };
      },
      "daemon.shutdown": (params) => {
        d.requestShutdown(params?.reason ?? "requested over rpc");
        return { ok: true as const, pid: process.pid };
      },
      "events.append": async (params) => {
        const [rec] = await d.log.append([
          {
            type: params.type,
            source: "cli",
            payload: params.payload,
            ...(params.worker !== undefined ? { worker: params.worker } : {}),
            ...(params.session !== undefined ? { session: params.session } : {}),
          },
        ]);
        return { seq: rec!.seq };
      },
      "events.read": async (params) => {
        const lastSeq = d.log.lastSeq;
        const events = await readRange(d.ctx.paths.events, {
          fromSeq: params.fromSeq,
          limit: params.limit,
          type: params.type,
          startOffset: d.log.index.offsetFor(params.fromSeq),
        });
        // Only what was durable when the read began: a line being written now may be half there.
        const upTo = events.filter((e) => e.seq <= lastSeq);
        const full = upTo.length >= params.limit;
        const nextSeq = full ? upTo[upTo.length - 1]!.seq + 1 : Math.max(params.fromSeq, lastSeq + 1);
        return { events: upTo, nextSeq, lastSeq };
      },
    },
  };
}
