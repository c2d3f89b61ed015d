// The web side of `cpwd ui`: an HTTP server on loopback only that answers a request only when it
// carries the page's token (anything else: 403, no body) and names this server as its Host (a
// page elsewhere cannot reach it through DNS rebinding). `/` is the page, `/stream` the
// server-sent events that keep it live: the model's snapshot, then each delta as the record grows.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Delta, Snapshot } from "./model.js";
import { PAGE_HTML } from "./page.js";

/** A stream whose page reads this far behind is dropped (the page's EventSource reconnects). */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** A comment line this often keeps idle streams open through anything that times them out. */
const KEEPALIVE_MS = 15_000;

const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // Inline script and style only; the stream from this origin; nothing else, from nowhere.
  "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export interface UiServerOptions {
  /** 0: any free port. */
  port: number;
  /** The secret every request carries as `?token=`. @default 32 random hex digits */
  token?: string;
  /** What a page starts from. */
  snapshot(): Snapshot;
}

/** A listening UI server; `publish` and `setDaemonUp` reach every open page. */
export class UiServer {
  private readonly streams = new Set<ServerResponse>();
  private daemonUp = false;
  private readonly keepalive: NodeJS.Timeout;
  readonly token: string;

  private constructor(
    private readonly server: Server,
    private readonly opts: UiServerOptions,
  ) {
    this.token = opts.token ?? randomBytes(16).toString("hex");
    server.on("request", (req, res) => this.handle(req, res));
    this.keepalive = setInterval(() => this.send(": keepalive\n\n"), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Listens on 127.0.0.1; rejects when the port is taken. */
  static async listen(opts: UiServerOptions): Promise<UiServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new UiServer(server, opts);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The page's address, token included. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  /** Pages open now. */
  get pages(): number {
    return this.streams.size;
  }

  publish(delta: Delta): void {
    if (delta.events.length === 0 && delta.workers.length === 0 && delta.removed.length === 0) return;
    this.send(message("delta", delta));
  }

  setDaemonUp(up: boolean): void {
    if (up === this.daemonUp) return;
    this.daemonUp = up;
    this.send(message("daemon", { up }));
  }

  /** Stops listening and ends every stream. */
  async close(): Promise<void> {
    clearInterval(this.keepalive);
    for (const res of this.streams) res.destroy();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!this.allowed(req, url)) {
      // No detail: a caller without the token learns nothing, not even what exists.
      res.writeHead(403, { "Content-Length": "0", "Cache-Control": "no-store" }).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": "0" }).end();
      return;
    }
    if (url.pathname === "/") {
      res.writeHead(200, PAGE_HEADERS).end(req.method === "HEAD" ? undefined : PAGE_HTML);
    } else if (url.pathname === "/stream") {
      this.openStream(res);
    } else {
      res.writeHead(404, { "Content-Length": "0" }).end();
    }
  }

  /** The token matches, and the Host header names this server (not a rebinding name). */
  private allowed(req: IncomingMessage, url: URL): boolean {
    const hosts = [`127.0.0.1:${this.port}`, `localhost:${this.port}`];
    if (!hosts.includes(req.headers.host ?? "")) return false;
    const given = Buffer.from(url.searchParams.get("token") ?? "");
    const want = Buffer.from(this.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private openStream(res: ServerResponse): void {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
    this.write(res, `retry: 1000\n\n${message("daemon", { up: this.daemonUp })}${message("snapshot", this.opts.snapshot())}`);
  }

  private send(text: string): void {
    for (const res of this.streams) this.write(res, text);
  }

  /** Writes to one page; one that has stopped reading is dropped instead of buffered for. */
  private write(res: ServerResponse, text: string): void {
    res.write(text);
    if (res.writableLength > MAX_UNSENT_BYTES) {
      this.streams.delete(res);
      res.destroy();
    }
  }
}

/** One server-sent event. JSON has no raw newlines, so the data fits on one `data:` line. */
function message(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
