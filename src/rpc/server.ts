// The RPC endpoint: a Unix socket (named pipe on Windows) speaking newline-delimited JSON-RPC 2.0.
// Owns connections, framing, batches, the message-size limit and slow-client protection; the
// method logic is a json-rpc-2.0 server handed in, so this file never sees a method name.
import { chmodSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { JSONRPCRequest, JSONRPCResponse, JSONRPCServer } from "json-rpc-2.0";
import { ErrorCode, RpcCode } from "../protocol/errors.js";
import { isRequestEnvelope, replyId } from "./envelope.js";
import { frame, LineSplitter } from "./framing.js";

/** Per-connection facts passed to every method call. */
export interface ConnectionInfo {
  connectionId: number;
}

export interface RpcServerOptions {
  socketPath: string;
  rpc: JSONRPCServer<ConnectionInfo>;
  /** Largest message (line) accepted; larger closes the connection. */
  maxMessageBytes: number;
  /** A client that does not read its replies is dropped past this much unsent output. @default 16 MiB */
  maxUnsentBytes?: number;
  /** A partial line left unfinished this long closes the connection. @default 30 s */
  partialLineTimeoutMs?: number;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

function errorResponse(id: string | number | null, code: number, message: string, data?: unknown): JSONRPCResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** A listening RPC server; `close` stops accepting and waits for in-flight calls. */
export class RpcServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private nextConnectionId = 1;

  private constructor(private readonly opts: RpcServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on the socket path (which must not exist) and restricts it to the owner. */
  static async listen(opts: RpcServerOptions): Promise<RpcServer> {
    const s = new RpcServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(opts.socketPath, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    // The folder is already 0700; 0600 on the socket itself is belt and braces.
    if (process.platform !== "win32") chmodSync(opts.socketPath, 0o600);
    return s;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    const info: ConnectionInfo = { connectionId: this.nextConnectionId++ };
    const maxUnsent = this.opts.maxUnsentBytes ?? 16 * 1024 * 1024;
    const partialMs = this.opts.partialLineTimeoutMs ?? 30_000;
    this.sockets.add(socket);
    let partialTimer: NodeJS.Timeout | undefined;

    const send = (msg: unknown): void => {
      if (socket.destroyed) return;
      socket.write(frame(msg));
      // A client that never reads would make us buffer without end: drop it instead.
      if (socket.writableLength > maxUnsent) {
        this.opts.log.warn({ connectionId: info.connectionId }, "rpc client not reading its replies; closing");
        socket.destroy();
      }
    };

    const splitter = new LineSplitter(this.opts.maxMessageBytes, {
      line: (text) => this.handleLine(text, info, send),
      tooLarge: (bytes) => {
        this.opts.log.warn({ connectionId: info.connectionId, bytes }, "rpc message over the size limit; closing");
        send(
          errorResponse(null, RpcCode.InvalidRequest, `message larger than ${this.opts.maxMessageBytes} bytes`, {
            code: ErrorCode.MessageTooLarge,
            limit: this.opts.maxMessageBytes,
          }),
        );
        socket.end();
        socket.destroySoon();
      },
    });

    socket.on("data", (chunk: Buffer) => {
      splitter.push(chunk);
      // A slow-loris client that starts a message and never ends it gets a deadline.
      if (partialTimer) clearTimeout(partialTimer);
      partialTimer = undefined;
      if (splitter.pending > 0 && !socket.destroyed) {
        partialTimer = setTimeout(() => socket.destroy(), partialMs);
        partialTimer.unref();
      }
    });
    socket.on("error", (err) => this.opts.log.debug({ connectionId: info.connectionId, err }, "rpc socket error"));
    socket.on("close", () => {
      if (partialTimer) clearTimeout(partialTimer);
      this.sockets.delete(socket);
    });
  }

  private handleLine(text: string, info: ConnectionInfo, send: (msg: unknown) => void): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      send(errorResponse(null, RpcCode.ParseError, "Parse error: the line is not valid JSON"));
      return;
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) {
        send(errorResponse(null, RpcCode.InvalidRequest, "Invalid Request: empty batch"));
        return;
      }
      // Each element on its own, answered as one array (json-rpc-2.0 would answer a batch with
      // one response as a bare object, which the spec does not allow).
      this.track(
        Promise.all(msg.map((m) => this.handleOne(m, info))).then((replies) => {
          const out = replies.filter((r): r is JSONRPCResponse => r !== null);
          if (out.length > 0) send(out);
        }),
      );
      return;
    }
    this.track(
      this.handleOne(msg, info).then((reply) => {
        if (reply) send(reply);
      }),
    );
  }

  private async handleOne(msg: unknown, info: ConnectionInfo): Promise<JSONRPCResponse | null> {
    if (!isRequestEnvelope(msg)) {
      return errorResponse(replyId(msg), RpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 request object");
    }
    try {
      return await this.opts.rpc.receive(msg as JSONRPCRequest, info);
    } catch (err) {
      this.opts.log.warn({ err }, "rpc dispatch failed");
      return msg.id === undefined ? null : errorResponse(msg.id, RpcCode.InternalError, "Internal error");
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight++;
    void p.finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** Stops accepting connections, waits up to `timeoutMs` for in-flight calls, then closes all. */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        // Not unref'd: during shutdown these timers are what keeps the process alive.
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs)),
      ]);
    }
    for (const s of this.sockets) s.end();
    // Give replies already written a moment to flush before forcing the sockets shut.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
