// HTTP hooks: Claude Code POSTs a hook's JSON to http://127.0.0.1:PORT/hook and reads the reply,
// with no process started (docs/hooks.md). The request becomes the very `hook.handle` call the shim
// sends over the socket, through the same RPC table (validation, secret masking, errors), so
// claims, digests, events and replies are identical whichever way a hook arrives. Loopback only;
// every request carries the token of `$CPWD_HOME/hook-http.json` or is refused (401, no detail).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONRPCRequest, JSONRPCResponse } from "json-rpc-2.0";
import type { CpwdPaths } from "../../src/platform/paths.js";
import { isHookInput, salvageHookInput, slimHookInput, type HookInput } from "../../src/protocol/hooks.js";
import { textExceedsDepth } from "../../src/protocol/json-bounds.js";
import { RpcCode } from "../../src/protocol/errors.js";
import { bearerMatches, ensureHookEndpoint, readHookEndpoint, updateHookPort, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { MAX_LINE_DEPTH } from "../../src/rpc/server.js";
import type { CallInfo } from "../rpc-table.js";
import { readHookBody } from "./body.js";

/** An oversized body is read (and dropped) up to this many times the message limit, then refused. */
const DRAIN_FACTOR = 64;
/** A token that did not match is checked against the file again at most this often (it may have been recreated). */
const REREAD_TOKEN_MS = 1_000;

export interface HookHttpOptions {
  paths: CpwdPaths;
  /** config `hookHttpPort`; null: the recorded port, else one chosen now and recorded. */
  configuredPort: number | null;
  /** The RPC's message limit (config `maxMessageBytes`): a body over it is taken only as far as salvage needs. */
  maxBodyBytes: number;
  /** The daemon's RPC table: `hook.handle` is called through it. */
  rpc: { receive(request: JSONRPCRequest, info: CallInfo): PromiseLike<JSONRPCResponse | null> };
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Headers not complete this long after connecting close the connection. @default 2 s */
  headersTimeoutMs?: number;
  /** A request not complete this long after its first byte is answered 408 and closed. @default 5 s */
  requestTimeoutMs?: number;
}

/** The listening HTTP hook endpoint. */
export class HookHttpServer {
  private tokenReadAtMs = Date.now();

  private constructor(
    private readonly server: Server,
    private endpoint: HookEndpoint,
    private readonly opts: HookHttpOptions,
  ) {}

  /**
   * Listens on 127.0.0.1 at the configured port, else the recorded one (a taken recorded port
   * gives way to a new one, recorded), and creates the token record if there is none.
   */
  static async listen(opts: HookHttpOptions): Promise<HookHttpServer> {
    const server = createServer({ requestTimeout: opts.requestTimeoutMs ?? 5_000, headersTimeout: opts.headersTimeoutMs ?? 2_000, connectionsCheckingInterval: 250 });
    server.maxConnections = 512;
    // A connection that got a hook's answer is kept for the next call, with no idle timeout of
    // ours: see `reply`.
    server.keepAliveTimeout = 0;
    const recorded = readHookEndpoint(opts.paths.hookEndpoint);
    const wanted = opts.configuredPort ?? recorded?.port ?? 0;
    try {
      await listenOn(server, wanted);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || opts.configuredPort !== null || wanted === 0) throw err;
      opts.log.warn({ port: wanted }, "the recorded HTTP hook port is taken; choosing another (run `cpwd hooks install --transport http` again)");
      await listenOn(server, 0);
    }
    const port = (server.address() as AddressInfo).port;
    let endpoint = ensureHookEndpoint(opts.paths.hookEndpoint, port);
    if (endpoint.port !== port) endpoint = updateHookPort(opts.paths.hookEndpoint, endpoint, port);
    const s = new HookHttpServer(server, endpoint, opts);
    // After listen, a server's errors are accept errors: EMFILE, out of descriptors, once libuv's
    // reserve one is gone too (until then it closes what it cannot accept). The server keeps
    // listening, and the hook call fails as with a daemon down. Said here, not left to the
    // process-wide uncaught handler.
    server.on("error", (err) => opts.log.warn({ err }, "the HTTP hook server could not accept a connection; it keeps listening"));
    server.on("request", (req, res) =>
      s.serve(req, res).catch((err: unknown) => {
        // A bug, not a client's fault: Claude Code reads a 500 as a non-blocking error.
        opts.log.warn({ err }, "an HTTP hook request failed");
        reply(res, 500, undefined, "abandon");
      }),
    );
    opts.log.info({ port }, "HTTP hooks listening on 127.0.0.1");
    return s;
  }

  get port(): number {
    return this.endpoint.port;
  }

  /** Stops accepting; requests under way get `graceMs` to finish, then their connections close. */
  async close(graceMs = 2_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  private authorized(header: string | undefined): boolean {
    if (bearerMatches(header, this.endpoint.token)) return true;
    // The record may have been removed and created again (a new token) while we ran.
    const now = Date.now();
    if (now - this.tokenReadAtMs < REREAD_TOKEN_MS) return false;
    this.tokenReadAtMs = now;
    const current = readHookEndpoint(this.opts.paths.hookEndpoint);
    if (current === null || current.token === this.endpoint.token) return false;
    this.endpoint = { port: this.endpoint.port, token: current.token };
    return bearerMatches(header, current.token);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorized(req.headers.authorization)) return reply(res, 401, undefined, "abandon");
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/hook") return reply(res, 404, undefined, "abandon");
    if (req.method !== "POST") return reply(res, 405, undefined, "abandon", { allow: "POST" });
    const max = this.opts.maxBodyBytes;
    const body = await readHookBody(req, max, max * DRAIN_FACTOR);
    if ("aborted" in body) return;
    if ("tooLarge" in body) return reply(res, 413, undefined, "abandon");
    const input = "text" in body ? parseHookInput(body.text) : salvageHookInput(body.head);
    if (input === null) return reply(res, "head" in body ? 413 : 400, undefined, "abandon");
    // CPWD_WORKER_ID, filled in by Claude Code from its environment ("" when it has none).
    const worker = req.headers["x-cpwd-worker"];
    const workerId = typeof worker === "string" && worker !== "" ? worker : undefined;
    // cpwd_via: the call came over HTTP, which has no fallback log (transcript-recovery.ts).
    const params = { event: { ...slimHookInput(input), cpwd_via: "http" }, ...(workerId ? { workerId } : {}) };
    const response = await this.opts.rpc.receive({ jsonrpc: "2.0", id: 0, method: "hook.handle", params }, { connectionId: 0 });
    if (response && "result" in response && response.result !== undefined) {
      const output = (response.result as { output?: Record<string, unknown> } | null)?.output ?? {};
      return reply(res, 200, JSON.stringify(output), "keep");
    }
    const code = response && "error" in response ? response.error?.code : undefined;
    if (code !== RpcCode.InvalidParams) this.opts.log.warn({ error: response && "error" in response ? response.error : null }, "an HTTP hook call failed");
    reply(res, code === RpcCode.InvalidParams ? 400 : 500, undefined, "close");
  }
}

/** The hook input in a body; null when it is not JSON, too deep, or names no event. */
function parseHookInput(text: string): HookInput | null {
  if (textExceedsDepth(text, MAX_LINE_DEPTH)) return null;
  try {
    const v: unknown = JSON.parse(text);
    return isHookInput(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Answers with `body` (JSON) or nothing. `keep` (a hook's answer, its body read whole) leaves the
 * connection open for the caller's next hook call: Claude Code keeps one connection to the endpoint
 * for a whole session (2.1.331, seen: 1 connection for 41 calls to an endpoint that keeps it, 41 to
 * one that closes), and a new connection a call cost it ~0.75 ms more a call, the daemon ~0.4 ms
 * of CPU (accept, set-up, close). The server sets no idle timeout on a kept connection: an idle
 * socket's timer is the one that dropped requests (a daemon resuming from a stop runs timers before
 * it reads sockets, so a request sent on an idle connection meanwhile was destroyed unread: chaos
 * http-hooks), and the caller closes it (Claude Code after ~5 s idle; at most 512 connections, and
 * only a caller with the token is ever kept). `close` closes after this answer (an error); `abandon`
 * also does not wait for an unread body.
 */
function reply(res: ServerResponse, status: number, body: string | undefined, after: "keep" | "close" | "abandon", extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { ...extra, "content-length": body === undefined ? 0 : Buffer.byteLength(body) };
  if (after !== "keep") headers.connection = "close";
  if (body !== undefined) headers["content-type"] = "application/json";
  res.writeHead(status, headers);
  res.end(body);
  if (after === "abandon") res.once("finish", () => res.req.socket.destroySoon?.());
}

function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
