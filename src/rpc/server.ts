// The RPC endpoint: a Unix socket (named pipe on Windows) speaking newline-delimited JSON-RPC 2.0.
// Owns listening, accepting, batches, the in-flight count and close; each connection's own state
// (its queue, pausing, the unfinished-message deadline, its reply backlog) is a `Connection`, and
// heavy work goes through one gate for all connections. The method logic is handed in (the daemon's
// method table, daemon/rpc-table.ts, or any json-rpc-2.0 server), so this file never sees a method name.
import { chmodSync, renameSync, statSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import type { JSONRPCRequest, JSONRPCResponse } from "json-rpc-2.0";
import { ErrorCode, RpcCode } from "../protocol/errors.js";
import { MAX_JSON_DEPTH, TOO_DEEP_MESSAGE } from "../protocol/json-bounds.js";
import { Connection, type ConnectionInfo, type ConnectionLimits, type ReplySink, type RpcLog } from "./connection.js";
import { errorResponse, isRequestEnvelope, replyId } from "./envelope.js";
import { frameReply, replyJson } from "./framing.js";
import { readLineShape, type LineShapeLimits } from "./line-shape.js";
import { HeavyWorkGate } from "./heavy-work-gate.js";
import { TurnScheduler } from "./turn-scheduler.js";

// What method handlers receive is part of the server's contract, so it is offered here too.
export type { ConnectionInfo } from "./connection.js";

/** A line nested deeper than this is refused without being parsed. */
export const MAX_LINE_DEPTH = 10_000;

/**
 * Values nested this deep in a line are collapsed unread before it is parsed, and the calls they
 * were in are refused unrun (with their ids): params may nest 64 levels (src/protocol/json-bounds.ts),
 * nothing a client may send nests this deep, and parsing it only made garbage (src/rpc/line-shape.ts).
 */
export const COLLAPSE_DEPTH = 128;

/**
 * The reply to a call that had a value collapsed: refused, never run (what was collapsed was not
 * even read), as the method table refuses params nested too deeply, with the call's id; none to a
 * notification (an object without an id), which the method table does not answer either.
 */
function collapsedReply(msg: unknown): JSONRPCResponse | null {
  if (typeof msg === "object" && msg !== null && !Array.isArray(msg) && !("id" in msg)) return null;
  return errorResponse(replyId(msg), RpcCode.InvalidParams, TOO_DEEP_MESSAGE, { code: ErrorCode.InvalidParams, maxDepth: MAX_JSON_DEPTH });
}

/** How the server listens, and its limits; the defaults suit the daemon. */
export interface RpcServerOptions {
  socketPath: string;
  /** The method logic, shaped as json-rpc-2.0's server: its methods get the ConnectionInfo (or part of it). */
  rpc: { receive(request: JSONRPCRequest, info: ConnectionInfo): PromiseLike<JSONRPCResponse | null> };
  /** Largest message (line) accepted; larger closes the connection. */
  maxMessageBytes: number;
  /** A client that does not read its replies is dropped past this much unsent output. @default 16 MiB */
  maxUnsentBytes?: number;
  /**
   * While more than this of a connection's replies is unsent, no new call of it is started and
   * none of its heavy work is run (reading from it pauses); both go on once the replies drain.
   * @default 1 MiB
   */
  replyHighWaterBytes?: number;
  /**
   * A connection's heavy work waits while more than this of its replies is unsent: a client that
   * reads keeps it near zero, and one that does not gets a page made for it, not a page a slot
   * until `replyHighWaterBytes`. @default 64 KiB
   */
  heavyHighWaterBytes?: number;
  /** Heavy work (`ConnectionInfo.runHeavy`) running at once, all connections together (one a connection). @default 2 */
  heavyJobsAtOnce?: number;
  /** A message still unfinished this long after its first byte closes the connection. @default 30 s */
  partialLineTimeoutMs?: number;
  /** A batch with more entries is refused with -32600 (the connection stays open). @default 1000 */
  maxBatchEntries?: number;
  /** Lines of one connection handled per event-loop turn before others get a turn. @default 64 */
  linesPerTurn?: number;
  /**
   * Time one turn may spend handling lines, all connections together; then the rest waits for
   * the next turn, connections taking turns (src/rpc/turn-scheduler.ts). @default 1 ms
   */
  turnBudgetMs?: number;
  /** Reading from a connection pauses while this many of its calls are unanswered. @default 256 */
  maxPendingCallsPerConnection?: number;
  /** A batch's entries run this many at a time (never more than the pending-call limit). @default 64 */
  batchSliceEntries?: number;
  log: RpcLog;
}

/** A listening RPC server; `close` stops accepting and waits for in-flight calls. */
export class RpcServer {
  private readonly server: Server;
  private readonly live = new Set<Connection>();
  private readonly heavy: HeavyWorkGate;
  private readonly turns: TurnScheduler;
  private readonly limits: ConnectionLimits;
  private readonly shapeLimits: LineShapeLimits;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private nextConnectionId = 1;
  /** The socket file we created (Unix), to remove it at close only while it is still ours. */
  private socketFile: { dev: number; ino: number } | null = null;

  private constructor(private readonly opts: RpcServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
    this.heavy = new HeavyWorkGate(Math.max(1, opts.heavyJobsAtOnce ?? 2));
    this.turns = new TurnScheduler(opts.turnBudgetMs ?? 1);
    this.limits = {
      maxMessageBytes: opts.maxMessageBytes,
      maxUnsentBytes: opts.maxUnsentBytes ?? 16 * 1024 * 1024,
      replyHighWaterBytes: opts.replyHighWaterBytes ?? 1024 * 1024,
      heavyHighWaterBytes: opts.heavyHighWaterBytes ?? 64 * 1024,
      partialLineTimeoutMs: opts.partialLineTimeoutMs ?? 30_000,
      linesPerTurn: opts.linesPerTurn ?? 64,
      maxPendingCalls: opts.maxPendingCallsPerConnection ?? 256,
    };
    this.shapeLimits = { maxDepth: MAX_LINE_DEPTH, collapseDepth: COLLAPSE_DEPTH, maxBatchEntries: opts.maxBatchEntries ?? 1000 };
  }

  /**
   * Listens on the socket path (which must not exist) and restricts it to the owner. On Unix the
   * socket is bound under a temporary name and renamed into place: libuv unlinks the path it bound
   * when the server closes, whoever's file is there by then, so it must never be the real path
   * (see `close`). The rename also means a client never sees the socket before it is 0600.
   */
  static async listen(opts: RpcServerOptions): Promise<RpcServer> {
    const s = new RpcServer(opts);
    const unix = process.platform !== "win32";
    // Short (sun_path is ~104 bytes) and unique while we live: our pid, in base 36.
    const bindPath = unix ? join(dirname(opts.socketPath), `.${process.pid.toString(36)}.tmp`) : opts.socketPath;
    if (unix) unlinkIfPresent(bindPath); // a leftover of a dead process that had our pid
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(bindPath, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    if (unix) {
      // The folder is already 0700; 0600 on the socket itself is belt and braces.
      chmodSync(bindPath, 0o600);
      renameSync(bindPath, opts.socketPath);
      const st = statSync(opts.socketPath);
      s.socketFile = { dev: st.dev, ino: st.ino };
    }
    return s;
  }

  /** Connections open now. */
  get connections(): number {
    return this.live.size;
  }

  /** Each accepted socket becomes a Connection that hands its complete lines to `handleLine`. */
  private accept(socket: Socket): void {
    const conn = new Connection(socket, {
      connectionId: this.nextConnectionId++,
      limits: this.limits,
      gate: this.heavy,
      turns: this.turns,
      handleLine: (text, info, out, settled) => this.handleLine(text, info, out, settled),
      log: this.opts.log,
      onClose: () => this.live.delete(conn),
    });
    this.live.add(conn);
  }

  /**
   * Handles one line; returns how many calls it started, and calls `settled` with that number
   * once they are all answered.
   */
  private handleLine(text: string, info: ConnectionInfo, out: ReplySink, settled: (calls: number) => void): number {
    // What the line's shape alone settles is answered before parsing, which would build every
    // object it names only to refuse them: nesting far deeper than params may (100,000 levels
    // cost the whole daemon tens of milliseconds), a batch over the limit (a 4,000-entry one
    // several), and values nested past COLLAPSE_DEPTH, collapsed unread (their calls refused unrun).
    const shape = readLineShape(text, this.shapeLimits);
    if (shape.tooDeep) {
      out.send(errorResponse(null, RpcCode.InvalidRequest, `Invalid Request: nested more than ${MAX_LINE_DEPTH} levels deep`));
      return 0;
    }
    if (shape.oversizeBatchEntries > 0) {
      this.refuseBatchSize(shape.oversizeBatchEntries, out);
      return 0;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(shape.text);
    } catch {
      out.send(errorResponse(null, RpcCode.ParseError, "Parse error: the line is not valid JSON"));
      return 0;
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) {
        out.send(errorResponse(null, RpcCode.InvalidRequest, "Invalid Request: empty batch"));
        return 0;
      }
      if (msg.length > this.shapeLimits.maxBatchEntries) {
        this.refuseBatchSize(msg.length, out);
        return 0;
      }
      const calls = msg.length;
      this.track(this.handleBatch(msg, info, out, shape.collapsed), settled, calls);
      return calls;
    }
    if (shape.collapsed) {
      const reply = collapsedReply(msg);
      if (reply) out.send(reply);
      return 0;
    }
    // One call, one promise: the method's reply, sent and counted in the same callback.
    this.inFlight++;
    this.dispatch(msg, info).then(
      (reply) => {
        try {
          if (reply) out.sendText(frameReply(reply));
        } catch (err) {
          // A result that cannot be serialised (a bug): the caller still gets an answer.
          this.opts.log.warn({ err }, "rpc reply could not be serialised");
          if (reply) out.send(errorResponse(reply.id, RpcCode.InternalError, "Internal error"));
        }
        this.callsSettled(1, settled);
      },
      (err: unknown) => {
        this.opts.log.warn({ err }, "rpc dispatch failed");
        if ((msg as { id?: unknown }).id !== undefined) out.send(errorResponse(replyId(msg), RpcCode.InternalError, "Internal error"));
        this.callsSettled(1, settled);
      },
    );
    return 1;
  }

  /** A batch over the entry limit: refused whole, with -32600 (the connection stays open). */
  private refuseBatchSize(entries: number, out: ReplySink): void {
    const limit = this.shapeLimits.maxBatchEntries;
    out.send(
      errorResponse(null, RpcCode.InvalidRequest, `Invalid Request: a batch of ${entries} entries; at most ${limit} are allowed`, {
        code: ErrorCode.MessageTooLarge,
        limit,
        entries,
      }),
    );
  }

  /** One batch entry's reply as JSON; one that cannot be serialised (a bug) is answered Internal error, as a single call's is. */
  private encodeEntry(reply: JSONRPCResponse): string {
    try {
      return replyJson(reply);
    } catch (err) {
      this.opts.log.warn({ err }, "rpc reply could not be serialised");
      return JSON.stringify(errorResponse(reply.id, RpcCode.InternalError, "Internal error"));
    }
  }

  /**
   * Runs a batch's entries in order, a slice at a time (at most `batchSliceEntries` at once, with
   * an event-loop turn between slices), and answers them as one array (json-rpc-2.0 would answer
   * a batch with one response as a bare object, which the spec does not allow). Each reply is
   * encoded as soon as it is ready and only the text is kept; if the text grows past the
   * connection's unsent limit the rest of the batch is not run and the whole batch is answered
   * with one MESSAGE_TOO_LARGE error saying how many entries ran. So a batch never holds more
   * than one slice of results, nor builds a reply larger than the limit. The entries in
   * `collapsed` (readLineShape) are answered as refused, never run.
   */
  private async handleBatch(entries: unknown[], info: ConnectionInfo, out: ReplySink, collapsed: Set<number> | null): Promise<void> {
    const slice = Math.max(1, Math.min(this.opts.batchSliceEntries ?? 64, this.limits.maxPendingCalls));
    const parts: string[] = [];
    let bytes = 2; // "[" and "]\n", near enough
    for (let start = 0; start < entries.length; start += slice) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (out.closed()) return;
      const encoded = await Promise.all(
        entries
          .slice(start, start + slice)
          .map((m, k) => (collapsed?.has(start + k) ? Promise.resolve(collapsedReply(m)) : this.handleOne(m, info)).then((r) => (r === null ? null : this.encodeEntry(r)))),
      );
      for (const part of encoded) {
        if (part === null) continue;
        bytes += Buffer.byteLength(part) + 1;
        parts.push(part);
      }
      if (bytes > out.maxBytes) {
        const ran = Math.min(entries.length, start + slice);
        this.opts.log.warn({ connectionId: info.connectionId, entries: entries.length, ran, bytes }, "rpc batch reply over the unsent limit; answered with an error");
        out.send(
          errorResponse(
            null,
            RpcCode.InvalidRequest,
            `Invalid Request: the batch's reply would exceed ${out.maxBytes} bytes and is not sent; its first ${ran} of ${entries.length} entries were run, the rest were not`,
            { code: ErrorCode.MessageTooLarge, limit: out.maxBytes, entries: entries.length, ran },
          ),
        );
        return;
      }
    }
    if (parts.length > 0) out.sendText(`[${parts.join(",")}]\n`);
  }

  /** One request or notification: its reply, or null when none is due (a notification). */
  private async handleOne(msg: unknown, info: ConnectionInfo): Promise<JSONRPCResponse | null> {
    try {
      return await this.dispatch(msg, info);
    } catch (err) {
      this.opts.log.warn({ err }, "rpc dispatch failed");
      return (msg as { id?: unknown }).id === undefined ? null : errorResponse(replyId(msg), RpcCode.InternalError, "Internal error");
    }
  }

  /** The method logic's reply to one entry; rejects (or throws) only if the method logic does. */
  private dispatch(msg: unknown, info: ConnectionInfo): PromiseLike<JSONRPCResponse | null> {
    if (!isRequestEnvelope(msg)) {
      return Promise.resolve(errorResponse(replyId(msg), RpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 request object"));
    }
    try {
      return this.opts.rpc.receive(msg as JSONRPCRequest, info);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counts the work in flight until `p` settles, so that `close` can wait for it. */
  private track(p: Promise<void>, settled: (calls: number) => void, calls: number): void {
    this.inFlight++;
    void p.finally(() => this.callsSettled(calls, settled));
  }

  /** `calls` started by one line are answered: tells its connection, and `close` once none is left. */
  private callsSettled(calls: number, settled: (calls: number) => void): void {
    this.inFlight--;
    settled(calls);
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Stops accepting connections, waits up to `timeoutMs` for in-flight calls, then closes all. */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.heavy.close();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        // Not unref'd: during shutdown these timers are what keeps the process alive.
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer); // nor, once the calls are done, keeps it alive for nothing
    }
    for (const c of this.live) c.end();
    // Give replies already written a moment to flush before forcing the sockets shut.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    for (const c of this.live) c.destroy();
    await closed;
    this.removeSocketFile();
  }

  /** Unlinks the socket file if it is still the one we created (not a successor daemon's). */
  private removeSocketFile(): void {
    const mine = this.socketFile;
    if (!mine) return;
    this.socketFile = null;
    try {
      const st = statSync(this.opts.socketPath);
      if (st.dev !== mine.dev || st.ino !== mine.ino) {
        this.opts.log.warn({ socket: this.opts.socketPath }, "the socket file is no longer ours; leaving it");
        return;
      }
    } catch {
      return; // already gone
    }
    unlinkIfPresent(this.opts.socketPath);
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
