// A raw line-oriented socket for sending malformed input to the daemon and reading its replies.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";

export interface RawConn {
  socket: Socket;
  send(text: string): void;
  /** Next reply line parsed as JSON. */
  next(timeoutMs?: number): Promise<unknown>;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  close(): void;
}

export async function rawConnect(path: string): Promise<RawConn> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buf = "";
  socket.on("data", (c: Buffer) => {
    buf += c.toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    send: (text) => void socket.write(text),
    next: (timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const ready = lines.shift();
        if (ready !== undefined) return resolve(JSON.parse(ready));
        const t = setTimeout(() => reject(new Error("no reply line in time")), timeoutMs);
        waiters.push((line) => {
          clearTimeout(t);
          resolve(JSON.parse(line));
        });
      }),
    closed,
    close: () => socket.destroy(),
  };
}

/** Appends `count` ext.fill events (payload `{ n, pad }`) in batches of 1,000, each one recorded. */
export async function appendFillEvents(conn: RawConn, count: number, pad: string): Promise<void> {
  for (let done = 0; done < count; done += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - done) }, (_, i) =>
      JSON.stringify({ jsonrpc: "2.0", id: done + i, method: "events.append", params: { type: "ext.fill", payload: { n: done + i, pad } } }),
    );
    conn.send(`[${batch.join(",")}]\n`);
    const replies = (await conn.next(60_000)) as Array<{ result?: { seq?: unknown } }>;
    assert.ok(replies.every((r) => typeof r.result?.seq === "number"), "every append is recorded");
  }
}
