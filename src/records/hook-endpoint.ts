// `$CPWD_HOME/hook-http.json`: where the daemon serves HTTP hooks (its loopback port) and the
// token every request must carry. 0600, created once — by the daemon at start or by `cpwd hooks
// install --transport http`, whichever comes first — and kept across restarts: a token or port
// that changed would leave every session's HTTP hooks refused until they are installed again.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { readJsonObject } from "./json-record.js";

/** The record: the port the daemon listens on (127.0.0.1) and the bearer token. */
export interface HookEndpoint {
  port: number;
  token: string;
}

/** 32 random bytes, hex: what `Authorization: Bearer …` must carry. */
const TOKEN = /^[0-9a-f]{64}$/;

/** The URL HTTP hooks post to. */
export function hookUrl(port: number): string {
  return `http://127.0.0.1:${port}/hook`;
}

/** The record in `file`; null when it is absent, half-written or malformed. */
export function readHookEndpoint(file: string): HookEndpoint | null {
  const raw = readJsonObject(file);
  if (raw === null || typeof raw.token !== "string" || !TOKEN.test(raw.token)) return null;
  const port = raw.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { port, token: raw.token };
}

function writeTemp(file: string, record: HookEndpoint): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ port: record.port, token: record.token })}\n`, { mode: 0o600 });
  return tmp;
}

/**
 * The record, created with a new token and `port` when there is none (exclusively: when the
 * daemon and an install create it at once, both end up with the one that landed first).
 */
export function ensureHookEndpoint(file: string, port: number): HookEndpoint {
  const existing = readHookEndpoint(file);
  if (existing) return existing;
  const tmp = writeTemp(file, { port, token: randomBytes(32).toString("hex") });
  try {
    // A link never replaces a file: whoever links first wins. A malformed file is replaced.
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    if (readHookEndpoint(file) === null) renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return readHookEndpoint(file) ?? ensureHookEndpoint(file, port);
}

/** Rewrites the record with another port, the token kept (the old port was taken). */
export function updateHookPort(file: string, record: HookEndpoint, port: number): HookEndpoint {
  const next = { port, token: record.token };
  renameSync(writeTemp(file, next), file);
  return next;
}

/** Whether an `Authorization` header carries `token`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/.exec(header ?? "");
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
