// One request on a connection of its own: connect, send one line, read one reply, close. Hand-built
// request line instead of json-rpc-2.0 (which costs ~4–9 ms to load, on a path that runs on every
// tool call). `oneshot` is the hook shim's (one hard deadline, never throws); `requestOnce` is the
// CLI's for a command that needs one answer (`cpwd status`), failing as RpcClient.call would.
// Node built-ins and project files only.
import { connect } from "node:net";
import { CpwdError, ErrorCode } from "../protocol/errors.js";
import type { MethodName, ParamsOf, ResultOf } from "../protocol/rpc-methods.js";
import { openSocket } from "./connect.js";
import { LineSplitter } from "./framing.js";
import { wireError } from "./wire-error.js";

export type OneshotResult =
  | { ok: true; result: unknown }
  /** down: nobody listens (safe to start one); timeout: no reply in time; error: anything else. */
  | { ok: false; kind: "down" | "timeout" | "error" | "rpc"; message: string; code?: string };

/** One JSON-RPC request with a deadline that covers connect, write, wait and read. Never throws. */
export function oneshot(socketPath: string, method: string, params: unknown, deadlineMs: number): Promise<OneshotResult> {
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    const socket = connect(socketPath);
    const finish = (r: OneshotResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, kind: "timeout", message: `no reply within ${deadlineMs} ms` }), deadlineMs);
    socket.once("connect", () => socket.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method, params })}\n`));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunk.indexOf(10) === -1) return;
      const text = Buffer.concat(chunks).toString("utf8");
      const line = text.slice(0, text.indexOf("\n"));
      try {
        const msg = JSON.parse(line) as { result?: unknown; error?: { message?: string; data?: { code?: string } } };
        if (msg.error) finish({ ok: false, kind: "rpc", message: msg.error.message ?? "error", ...(msg.error.data?.code ? { code: msg.error.data.code } : {}) });
        else finish({ ok: true, result: msg.result });
      } catch {
        finish({ ok: false, kind: "error", message: "unreadable reply" });
      }
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const down = err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ENOTSOCK";
      finish({ ok: false, kind: down ? "down" : "error", message: err.message });
    });
    socket.once("close", () => finish({ ok: false, kind: "error", message: "connection closed before a reply" }));
  });
}

export interface RequestOnceOptions {
  /** @default 1000 */
  connectTimeoutMs?: number;
  /** From the request's write to its reply. @default 10_000 */
  timeoutMs?: number;
  /** Largest reply line accepted. @default 64 MiB */
  maxMessageBytes?: number;
}

/**
 * Connects, calls `method` and closes. Rejects with the CpwdError a command acts on: the daemon's
 * own (wire-error.ts), DAEMON_NOT_RUNNING, CONNECT_TIMEOUT or PERMISSION_DENIED from connecting,
 * REQUEST_TIMEOUT, or CONNECTION_CLOSED when the daemon hangs up before it answers.
 */
export async function requestOnce<M extends MethodName>(socketPath: string, method: M, params?: ParamsOf<M>, opts: RequestOnceOptions = {}): Promise<ResultOf<M>> {
  const socket = await openSocket(socketPath, opts.connectTimeoutMs ?? 1_000);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<ResultOf<M>>((resolve, reject) => {
    const settle = (err: CpwdError | null, result?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(result as ResultOf<M>);
    };
    const timer = setTimeout(() => settle(new CpwdError(ErrorCode.RequestTimeout, `${method}: no reply within ${timeoutMs} ms`)), timeoutMs);
    const splitter = new LineSplitter(opts.maxMessageBytes ?? 64 * 1024 * 1024, {
      line: (text) => {
        let msg: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
        try {
          msg = JSON.parse(text) as typeof msg;
        } catch {
          return; // not ours to answer; a daemon never sends a bad line
        }
        if (msg === null || typeof msg !== "object" || msg.id !== 1) return; // a notification
        const e = msg.error;
        if (e) settle(wireError(typeof e.code === "number" ? e.code : 0, typeof e.message === "string" ? e.message : `${method} failed`, e.data));
        else settle(null, msg.result);
      },
      tooLarge: (bytes) => settle(new CpwdError(ErrorCode.MessageTooLarge, `${method}: the reply is over ${bytes} bytes`)),
    });
    socket.on("data", (chunk: Buffer) => splitter.push(chunk));
    socket.on("error", () => {}); // "close" follows and says it
    socket.once("close", () => settle(new CpwdError(ErrorCode.ConnectionClosed, `${method}: connection to the daemon closed`)));
    socket.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method, ...(params === undefined ? {} : { params }) })}\n`);
  });
}
