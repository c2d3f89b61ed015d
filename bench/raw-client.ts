// The cheapest client the wire protocol allows, so the figures are the daemon's and not a client
// library's: hand-built request lines over raw Unix sockets, replies counted by their newlines.
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";

async function open(path: string): Promise<Socket> {
  const s = connect(path);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  s.setNoDelay?.(true);
  return s;
}

/** One connection, one request at a time: for latency. */
export class LineClient {
  private waiter: ((line: string) => void) | null = null;
  private buf = "";

  private constructor(private readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.buf += c.toString("utf8");
      const nl = this.buf.indexOf("\n");
      if (nl === -1) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const w = this.waiter;
      this.waiter = null;
      w?.(line);
    });
  }

  static async connect(path: string): Promise<LineClient> {
    return new LineClient(await open(path));
  }

  /** Sends one line (newline included) and resolves with the next reply line. */
  roundTrip(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.socket.write(line);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface DriveResult {
  /** Replies received before the deadline. */
  replies: number;
  /** Of those, how many were errors (a run with errors measures nothing). */
  errors: number;
  elapsedMs: number;
}

/**
 * A closed loop: `conns` connections each keep `inFlight` requests outstanding for `durationMs`,
 * sending one new request per reply. `makeLine(conn, n)` builds request n of a connection.
 */
export async function drive(path: string, conns: number, inFlight: number, durationMs: number, makeLine: (conn: number, n: number) => string): Promise<DriveResult> {
  const sockets = await Promise.all(Array.from({ length: conns }, () => open(path)));
  let replies = 0;
  let errors = 0;
  let running = true;
  const t0 = performance.now();
  const done = sockets.map(
    (s, conn) =>
      new Promise<void>((resolve, reject) => {
        let sent = 0;
        let outstanding = 0;
        s.on("error", reject);
        s.on("data", (c: Buffer) => {
          let got = 0;
          for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) got++;
          for (let i = c.indexOf('"error":'); i !== -1; i = c.indexOf('"error":', i + 1)) if (running) errors++;
          outstanding -= got;
          if (running) {
            replies += got;
            let out = "";
            for (let k = 0; k < got; k++) out += makeLine(conn, sent++);
            outstanding += got;
            s.write(out);
          } else if (outstanding === 0) resolve();
        });
        let out = "";
        for (let k = 0; k < inFlight; k++) out += makeLine(conn, sent++);
        outstanding = inFlight;
        s.write(out);
      }),
  );
  await new Promise((r) => setTimeout(r, durationMs));
  running = false;
  const elapsedMs = performance.now() - t0;
  // Let the last replies arrive (they are not counted), so the daemon is quiet for what follows.
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 10_000))]);
  for (const s of sockets) s.destroy();
  return { replies, errors, elapsedMs };
}

const ECHO = `const net = require("net");
net.createServer((s) => s.on("data", (d) => s.write(d))).listen(process.argv[1], () => process.stdout.write("ready\\n"));`;

/** A Node process that echoes every byte on a Unix socket: the floor under any RPC round trip. */
export async function startEchoServer(path: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, ["-e", ECHO, path], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    p.once("error", reject);
    p.once("exit", (code) => reject(new Error(`echo server exited ${code}`)));
    p.stdout!.once("data", () => resolve());
  });
  return p;
}
