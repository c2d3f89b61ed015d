// Where cpwd keeps its files. Pure functions of an environment and a platform: no globals read at
// import time, so tests and the hook shim pass their own. Node built-ins only (the shim imports it).
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The environment variables and platform facts the paths depend on. */
export interface PathEnv {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  home: string;
  uid: number;
}

export function currentPathEnv(): PathEnv {
  return {
    env: process.env,
    platform: process.platform,
    home: homedir(),
    uid: typeof process.getuid === "function" ? process.getuid() : 0,
  };
}

/** A Unix socket path must fit sun_path: 108 bytes on Linux, 104 on macOS; keep under both. */
export const MAX_SOCKET_PATH_BYTES = 103;

/** Every file cpwd keeps for one CPWD_HOME. */
export interface CpwdPaths {
  home: string;
  events: string;
  fallback: string;
  quarantine: string;
  daemonLog: string;
  pidFile: string;
  config: string;
  /** The HTTP hook endpoint's port and token (src/records/hook-endpoint.ts), 0600. */
  hookEndpoint: string;
  workers: string;
  /** Folder that holds the socket: 0700, owner only. */
  socketDir: string;
  /** Unix socket path or Windows pipe name. */
  socket: string;
}

/** CPWD_HOME: the env override, else the platform's per-user state folder. */
export function resolveHome(pe: PathEnv = currentPathEnv()): string {
  const override = pe.env.CPWD_HOME;
  if (override && override.trim() !== "") return resolve(override);
  if (pe.platform === "win32") {
    return join(pe.env.LOCALAPPDATA ?? join(pe.home, "AppData", "Local"), "cpwd");
  }
  if (pe.platform === "darwin") return join(pe.home, "Library", "Application Support", "cpwd");
  const state = pe.env.XDG_STATE_HOME;
  return join(state && state.startsWith("/") ? state : join(pe.home, ".local", "state"), "cpwd");
}

/** 16 hex digits of SHA-256. node:crypto is loaded only when a hash is needed (≈2.5 ms of start-up). */
function shortHash(text: string): string {
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * The RPC endpoint for a home. On Windows a named pipe derived from a hash of the home; elsewhere
 * `<home>/run/cpwd.sock`, unless that is too long for sun_path, in which case a short per-user
 * folder under the temp dir holds a socket named by the same hash.
 */
export function socketLocation(home: string, pe: PathEnv = currentPathEnv()): { dir: string; path: string } {
  if (pe.platform === "win32") return { dir: join(home, "run"), path: `\\\\.\\pipe\\cpwd-${shortHash(home)}` };
  const dir = join(home, "run");
  const natural = join(dir, "cpwd.sock");
  if (Buffer.byteLength(natural) <= MAX_SOCKET_PATH_BYTES) return { dir, path: natural };
  const hash = shortHash(home);
  // /tmp rather than os.tmpdir(): TMPDIR on macOS is itself long.
  const base = pe.platform === "darwin" || pe.platform === "linux" ? "/tmp" : tmpdir();
  const shortDir = join(base, `cpwd-${pe.uid}`);
  return { dir: shortDir, path: join(shortDir, `${hash}.sock`) };
}

export function resolvePaths(pe: PathEnv = currentPathEnv(), home: string = resolveHome(pe)): CpwdPaths {
  const socket = socketLocation(home, pe);
  return {
    home,
    events: join(home, "events.jsonl"),
    fallback: join(home, "events.fallback.jsonl"),
    quarantine: join(home, "events.quarantine.jsonl"),
    daemonLog: join(home, "daemon.log"),
    pidFile: join(home, "daemon.pid"),
    config: join(home, "config.json"),
    hookEndpoint: join(home, "hook-http.json"),
    workers: join(home, "workers"),
    socketDir: socket.dir,
    socket: socket.path,
  };
}

/** A worker's folder: `workers/W<N>/`. */
export function workerDir(paths: CpwdPaths, workerId: string): string {
  return join(paths.workers, workerId);
}
