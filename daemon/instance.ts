// Exactly one daemon per CPWD_HOME. The rule: a daemon that answers `ping` on the socket is alive
// and is never disturbed; otherwise the proper-lockfile lock on events.jsonl decides. Because
// proper-lockfile only calls a lock stale after `stale` ms (≥ 5 s), a daemon restarted right after
// a kill -9 would wait or fail; so when the lock is held we check the holder's pid ourselves, and
// a dead holder's lock is taken over at once.
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import lockfile from "proper-lockfile";
import type { CpwdPaths } from "../src/paths.js";
import { CpwdError, ErrorCode } from "../src/protocol/errors.js";
import { probeDaemon } from "../src/rpc/probe.js";
import { isAlive as pidAlive } from "./runner/proc.js";

/** The pid file's content. */
export interface PidRecord {
  pid: number;
  startedAt: string;
  socket: string;
}

export function readPidFile(file: string): PidRecord | null {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as PidRecord;
    return typeof r.pid === "number" ? r : null;
  } catch {
    return null;
  }
}

/** Creates a folder only its owner can enter; refuses one that is a symlink or someone else's. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === "win32") return;
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new CpwdError(ErrorCode.Io, `${dir} is not a directory`);
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new CpwdError(ErrorCode.PermissionDenied, `${dir} belongs to uid ${st.uid}, not to us`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function alreadyRunning(paths: CpwdPaths, pid: number): CpwdError {
  return new CpwdError(ErrorCode.AlreadyRunning, `a cpwd daemon is already running for ${paths.home} (pid ${pid})`, {
    details: { pid },
  });
}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * Becomes the one daemon for `paths.home`, or throws ALREADY_RUNNING naming the running one's pid.
 * On success the lock is held, the pid file written and any stale socket file removed.
 */
export async function acquireInstance(
  paths: CpwdPaths,
  onCompromised: (err: Error) => void,
  opts: { waitForStarterMs?: number } = {},
): Promise<InstanceLock> {
  ensurePrivateDir(paths.home);
  ensurePrivateDir(paths.socketDir);
  const live = await probeDaemon(paths.socket);
  if (live) throw alreadyRunning(paths, live.pid);

  // proper-lockfile with realpath needs the file; we lock by path, so just make sure it exists.
  closeSync(openSync(paths.events, "a", 0o600));
  const lockOpts = { stale: 10_000, update: 2_000, realpath: false, retries: 0, onCompromised };
  const deadline = Date.now() + (opts.waitForStarterMs ?? 2_000);
  let release: () => Promise<void>;
  for (;;) {
    try {
      release = await lockfile.lock(paths.events, lockOpts);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
      const holder = readPidFile(paths.pidFile);
      if (holder && holder.pid !== process.pid && pidAlive(holder.pid)) throw alreadyRunning(paths, holder.pid);
      if (!holder && Date.now() < deadline) {
        // Another daemon took the lock a moment ago and has not written its pid yet.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      // The holder is dead (kill -9, power loss): its lock is ours to take.
      rmSync(`${paths.events}.lock`, { recursive: true, force: true });
    }
  }
  const record: PidRecord = { pid: process.pid, startedAt: new Date().toISOString(), socket: paths.socket };
  writeFileSync(paths.pidFile, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  // Nobody answered the probe and we hold the lock: a socket file left here is stale.
  if (process.platform !== "win32") {
    try {
      unlinkSync(paths.socket);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return {
    release: async () => {
      const current = readPidFile(paths.pidFile);
      if (current?.pid === process.pid) rmSync(paths.pidFile, { force: true });
      await release().catch(() => {});
    },
  };
}
