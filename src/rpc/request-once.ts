// One request on a connection of its own, for a CLI command that needs one answer (`cpwd
// status`): connect, send one hand-built line, read one reply, close, and fail as RpcClient.call
// would — without loading json-rpc-2.0 (~4–9 ms). The hook shim's own path is oneshot.ts.
import { CpwdError, ErrorCode } from "../protocol/errors.js";
import type { MethodName, ParamsOf, ResultOf } from "../protocol/rpc-methods.js";
import { openSocket } from "./connect.js";
import { LineSplitter } from "./framing.js";
import { wireError } from "./wire-error.js";

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
