// Raw line-oriented sockets to the daemon or an RpcServer: one for sending malformed input and reading
// the replies, and one that does not read its replies (for backpressure).
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";

export interface RawConn {
  socket: Socket;
  send(text: string): void;
  /** Next reply line parsed as JSON. */
  next(timeoutMs?: number): Promise<unknown>;
  /** Next reply line exactly as it came (without its newline). */
  nextLine(timeoutMs?: number): Promise<string>;
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
  const nextLine = (timeoutMs = 5_000) =>
    new Promise<string>((resolve, reject) => {
      const ready = lines.shift();
      if (ready !== undefined) return resolve(ready);
      const t = setTimeout(() => reject(new Error("no reply line in time")), timeoutMs);
      waiters.push((line) => {
        clearTimeout(t);
        resolve(line);
      });
    });
  return {
    socket,
    send: (text) => void socket.write(text),
    next: async (timeoutMs = 5_000) => JSON.parse(await nextLine(timeoutMs)) as unknown,
    nextLine,
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

/** A connection that writes and does not read: its socket is paused until `readLines` resumes it. */
export interface NonReadingConn {
  socket: Socket;
  /** Whether the server has closed the connection (paused is not closed). */
  closed(): boolean;
  /**
   * Resumes the socket and reads the next `n` reply lines, parsed as JSON, then pauses it again.
   * Rejects if the connection closes first or the lines do not come within `timeoutMs`.
   */
  readLines(n: number, timeoutMs?: number): Promise<unknown[]>;
}

/** Connects a socket that does not read its replies, so the server's unsent replies pile up. */
export async function nonReadingConnect(path: string): Promise<NonReadingConn> {
  const socket = connect(path);
  socket.pause();
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  let closed = false;
  socket.once("close", () => (closed = true));
  let buf = "";
  const readLines = (n: number, timeoutMs = 60_000) =>
    new Promise<unknown[]>((resolve, reject) => {
      const got: unknown[] = [];
      const t = setTimeout(() => done(new Error(`only ${got.length} of ${n} replies in time`)), timeoutMs);
      const onData = (c: Buffer) => {
        buf += c.toString("utf8");
        let nl: number;
        while (got.length < n && (nl = buf.indexOf("\n")) !== -1) {
          got.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
        if (got.length === n) done();
      };
      const onClose = () => done(new Error(`closed after ${got.length} of ${n} replies`));
      const done = (err?: Error) => {
        clearTimeout(t);
        socket.off("data", onData);
        socket.off("close", onClose);
        socket.pause();
        if (err) reject(err);
        else resolve(got);
      };
      socket.on("data", onData);
      socket.once("close", onClose);
      onData(Buffer.alloc(0)); // whole lines left over from an earlier read come first
      if (got.length < n) socket.resume();
    });
  return { socket, closed: () => closed, readLines };
}
