// The cheapest client the wire protocol allows, so the figures are the daemon's and not a client
// library's: hand-built request lines over raw Unix sockets, replies counted by their newlines; the
// throughput load runs in a process of its own.
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
  /** The load generator's own CPU (user + system) per reply, µs: it shares the machine's cores with the daemon. */
  clientUsPerReply: number;
}

// The load generator, run in a process of its own so that its work never shares the bench
// process's event loop (nor its tsx loader): argv is the socket, connections, requests in flight
// per connection, milliseconds, and the source of `makeLine`. Replies are counted by their
// newlines and errors by '"error":', never parsed.
const DRIVER = `const net = require("net");
const [path, connsArg, inFlightArg, msArg, lineSrc] = process.argv.slice(1);
const conns = Number(connsArg), inFlight = Number(inFlightArg), ms = Number(msArg);
const makeLine = (0, eval)(lineSrc);
let replies = 0, errors = 0, running = true, opened = 0, open = conns, elapsedMs = 0, t0 = 0, reported = false;
const report = () => {
  if (reported) return;
  reported = true;
  const u = process.cpuUsage();
  process.stdout.write(JSON.stringify({ replies, errors, elapsedMs, clientUsPerReply: (u.user + u.system) / Math.max(1, replies) }) + "\\n", () => process.exit(0));
};
const sockets = [];
const ERROR_KEY = Buffer.from('"error":');
for (let conn = 0; conn < conns; conn++) {
  let sent = 0, outstanding = 0;
  // Replies are read into one buffer of the connection's own (onread), not a new Buffer and a
  // stream 'data' event a read: at 1 in flight that machinery cost the generator more CPU than
  // the daemon's reply did.
  const onReplies = (n, buf) => {
    let got = 0;
    for (let i = 0; i < n; i++) if (buf[i] === 10) got++;
    outstanding -= got;
    if (running) {
      const chunk = buf.subarray(0, n);
      for (let i = chunk.indexOf(ERROR_KEY); i !== -1; i = chunk.indexOf(ERROR_KEY, i + 1)) errors++;
      replies += got;
      burst(got);
    } else if (outstanding === 0) { s.destroy(); if (--open === 0) report(); }
  };
  const s = net.connect({ path, onread: { buffer: Buffer.allocUnsafe(64 * 1024), callback: onReplies } });
  const burst = (k) => { let out = ""; for (let i = 0; i < k; i++) out += makeLine(conn, sent++); outstanding += k; s.write(out); };
  s.on("error", (e) => { process.stderr.write(String(e) + "\\n"); process.exit(1); });
  s.on("connect", () => { s.setNoDelay(true); if (++opened === conns) { t0 = performance.now(); for (const k of sockets) k.start(); setTimeout(stop, ms); } });
  s.start = () => burst(inFlight);
  sockets.push(s);
}
function stop() {
  running = false;
  elapsedMs = performance.now() - t0;
  // Let the last replies arrive (they are not counted), so the daemon is quiet for what follows.
  setTimeout(report, 10000).unref();
}`;

/**
 * A closed loop in a process of its own: `conns` connections each keep `inFlight` requests
 * outstanding for `durationMs`, sending one new request per reply. `makeLine(conn, n)` builds
 * request n of a connection; it runs in that process, so it must use nothing but its arguments.
 */
export async function drive(path: string, conns: number, inFlight: number, durationMs: number, makeLine: (conn: number, n: number) => string): Promise<DriveResult> {
  const p = spawn(process.execPath, ["-e", DRIVER, path, String(conns), String(inFlight), String(durationMs), makeLine.toString()], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  p.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve, reject) => {
    p.once("error", reject);
    p.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`the load generator exited ${code}`);
  return JSON.parse(out) as DriveResult;
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
