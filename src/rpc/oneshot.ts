// The hook shim's client: connect, send one request, read one reply, close — all inside one hard
// deadline. Hand-built request line instead of json-rpc-2.0 (which costs ~4–9 ms to load, on a
// path that runs on every tool call). Node built-ins only. (The CLI's one-request path, which
// fails as RpcClient.call would, is request-once.ts: none of it is on the shim's path.)
import { connect } from "node:net";

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
