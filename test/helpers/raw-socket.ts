// A raw line-oriented socket for sending malformed input to the daemon and reading its replies.
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
