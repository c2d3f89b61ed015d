// Exactly one daemon per CPWD_HOME. The rule: a daemon that answers `ping` on the socket is alive
// and is never disturbed; otherwise the proper-lockfile lock on events.jsonl decides, and a lock is
// stale only when the process that holds it is dead. proper-lockfile's own staleness test (an old
// mtime) is switched off with a huge `stale`: a stopped or hung holder keeps an old mtime yet is
// alive, and taking its lock would give the log two writers. Instead the holder records its pid
// and start time in `events.jsonl.lock/owner.json` (named, written and read by
// src/records/instance-lock.ts), and cpwd checks them itself.
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs";
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync } from "node:fs";
import lockfile from "proper-lockfile";
import type { CpwdPaths } from "../src/platform/paths.js";
import { isAlive, processStartedAtMs, processStartTime, startedNoLaterThan } from "../src/platform/proc.js";
import { CpwdError, ErrorCode } from "../src/protocol/errors.js";
import { readPidFile, removePidFile, writePidFile, type PidRecord } from "../src/records/daemon-pid.js";
import { instanceLockDir, readLockOwner, removeLockOwner, sameOwner, takeoverGuardDir, writeLockOwner, type LockOwner } from "../src/records/instance-lock.js";
import { probeDaemon } from "../src/rpc/probe.js";

/** proper-lockfile never calls our lock stale by age (about 31 years); liveness decides. */
const NEVER_STALE_MS = 1_000_000_000_000;
const RETRY_MS = 20;

/** True while the recorded process runs (stopped counts as running), and is the same process. */
export function ownerAlive(owner: LockOwner): boolean {
  if (!isAlive(owner.pid)) return false;
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

function myOwnerRecord(): LockOwner {
  return { pid: process.pid, startTime: processStartTime(process.pid) };
}

/** Test hooks of `lockFs`: run between making the lock folder and writing our owner record. */
export interface LockFsHooks {
  afterMkdir?: () => void;
}

function lockConflict(lockDir: string, why: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`lock folder ${lockDir} ${why}`), { code: "ELOCKED", file: lockDir });
}

/**
 * The `fs` proper-lockfile uses, with the owner record kept inside the lock folder: created right
 * after the folder is made (before proper-lockfile notes the folder's mtime, so writing it does
 * not look like someone else touching the lock) and removed right before the folder is (its
 * `rmdir` needs it empty). Everything else is plain node:fs.
 *
 * A starter can stall between its `mkdir` and the record (SIGSTOP, a swapped-out laptop) for
 * longer than other starters wait for an ownerless folder; by then its folder may have been
 * removed and another daemon's made in its place. So the record is created exclusively (`wx`):
 * if one is already there, or the folder is gone, the folder is not ours and we report a lock
 * conflict (ELOCKED) without touching anything. Likewise `rmdir` removes the folder only while
 * its record names us; a folder owned by someone else is left to them.
 */
export function lockFs(lockDir: string, hooks: LockFsHooks = {}): typeof nodeFs {
  type Done = (err: NodeJS.ErrnoException | null) => void;
  const ownedByUs = (): boolean => sameOwner(readLockOwner(lockDir), myOwnerRecord());
  return {
    ...nodeFs,
    // 0700 like the rest of CPWD_HOME: proper-lockfile's own mkdir would leave it to the umask.
    mkdir: (path: string, done: Done) =>
      nodeFs.mkdir(path, { mode: 0o700 }, (err) => {
        if (err || path !== lockDir) return done(err);
        const madeIno = inodeOf(lockDir);
        hooks.afterMkdir?.();
        try {
          // A reader that catches it half-written sees no owner and waits, as for a folder just made.
          writeLockOwner(lockDir, myOwnerRecord(), { exclusive: true });
        } catch (writeErr) {
          const code = (writeErr as NodeJS.ErrnoException).code;
          if (code === "EEXIST") return done(lockConflict(lockDir, "already has an owner (another starter took it)"));
          if (code === "ENOENT") return done(lockConflict(lockDir, "was removed before we recorded ourselves in it"));
          // No record was created (the open failed): the folder is still empty; remove it if it is
          // still the one we made. Non-recursive, so a folder someone has filled meanwhile stays.
          if (madeIno !== null && inodeOf(lockDir) === madeIno) {
            try {
              nodeFs.rmdirSync(lockDir);
            } catch {
              // not empty or gone: not ours to clean up
            }
          }
          return done(writeErr as NodeJS.ErrnoException);
        }
        done(null);
      }),
    rmdir: (path: string, done: Done) => {
      if (path === lockDir) {
        if (!ownedByUs()) return done(null); // someone else's lock now: leave it
        removeLockOwner(lockDir);
      }
      nodeFs.rmdir(path, done);
    },
    rmdirSync: (path: string) => {
      if (path === lockDir) {
        if (!ownedByUs()) return;
        removeLockOwner(lockDir);
      }
      nodeFs.rmdirSync(path);
    },
  } as unknown as typeof nodeFs;
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

/** How far apart daemon.pid's `startedAt` and the OS start time of its process may be. */
const LEGACY_START_TOLERANCE_MS = 2_000;

/**
 * True while the process daemon.pid names runs and can be the daemon that wrote it: a process
 * that started after `startedAt` (beyond the tolerance) is an unrelated one that got the pid,
 * typically after a reboot. Where the start time cannot be read, a live pid counts as the daemon.
 */
export function legacyDaemonAlive(record: PidRecord): boolean {
  if (!isAlive(record.pid)) return false;
  const startedAtMs = processStartedAtMs(record.pid);
  const writtenAtMs = Date.parse(record.startedAt);
  if (startedAtMs === null || !Number.isFinite(writtenAtMs)) return true;
  return startedNoLaterThan(startedAtMs, writtenAtMs, LEGACY_START_TOLERANCE_MS);
}

function alreadyRunning(paths: CpwdPaths, pid: number, answering = true): CpwdError {
  const how = answering ? "" : " but does not answer on its socket (stopped or hung?)";
  return new CpwdError(ErrorCode.AlreadyRunning, `a cpwd daemon is already running for ${paths.home} (pid ${pid})${how}`, { details: { pid } });
}

function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uniqueSuffix = () => `${process.pid}.${randomBytes(4).toString("hex")}`;

/** Moves a folder out of the way (atomically) and deletes it; false when it was not there. */
function removeDir(dir: string): boolean {
  const aside = `${dir}.gone-${uniqueSuffix()}`;
  try {
    renameSync(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

/**
 * Runs `fn` holding the takeover guard, `<lock>.takeover/`, or returns false at once when another
 * starter holds it. Taking a dead holder's lock is check-then-remove; with racing starters (six
 * `cpwd daemon` at once after a kill -9) a racer could otherwise remove the lock the winner took a
 * moment before. Under the guard, the lock folder can change only by its live owner releasing it.
 * The guard is made whole (with its owner record) in a side folder and renamed into place: a
 * rename onto a non-empty folder fails, so exactly one starter gets it. A guard whose holder died
 * (killed in the few ms it holds it) is cleared.
 */
async function withTakeoverGuard(guardDir: string, fn: () => void): Promise<boolean> {
  const mine = `${guardDir}.new-${uniqueSuffix()}`;
  mkdirSync(mine, { mode: 0o700 });
  writeLockOwner(mine, myOwnerRecord(), { exclusive: false });
  try {
    renameSync(mine, guardDir);
  } catch (err) {
    rmSync(mine, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EPERM") throw err;
    const holder = readLockOwner(guardDir);
    if (holder && !ownerAlive(holder)) {
      // Left by a starter killed mid-takeover. Move it aside, and put it back if what we moved
      // turns out to be a live starter's guard that replaced it in between.
      const aside = `${guardDir}.gone-${uniqueSuffix()}`;
      try {
        renameSync(guardDir, aside);
        if (sameOwner(readLockOwner(aside), holder)) rmSync(aside, { recursive: true, force: true });
        else renameSync(aside, guardDir);
      } catch {
        // someone else cleared it first
      }
    }
    return false;
  }
  try {
    fn();
  } finally {
    removeDir(guardDir);
  }
  return true;
}

/**
 * Takes the proper-lockfile lock on the event log and returns its release, or throws
 * ALREADY_RUNNING naming a live holder. A dead holder's lock is removed (under the takeover
 * guard); an ownerless one is waited on for `starterGraceMs`, then judged by daemon.pid.
 */
async function takeLock(paths: CpwdPaths, onCompromised: (err: Error) => void, starterGraceMs: number): Promise<() => Promise<void>> {
  // proper-lockfile with realpath needs the file; we lock by path, so just make sure it exists.
  closeSync(openSync(paths.events, "a", 0o600));
  const lockDir = instanceLockDir(paths.events);
  const guardDir = takeoverGuardDir(lockDir);
  // Test hook: stop this starter (SIGSTOP) right after it makes the lock folder, so a test can
  // replay a starter stalled there deterministically. Read per call; never set outside tests.
  const hooks: LockFsHooks =
    process.env.CPWD_TEST_STOP_AFTER_LOCK_MKDIR === "1" ? { afterMkdir: () => process.kill(process.pid, "SIGSTOP") } : {};
  const lockOpts = { stale: NEVER_STALE_MS, update: 2_000, realpath: false, retries: 0, onCompromised, fs: lockFs(lockDir, hooks) };
  const ownerless = { ino: -1, sinceMs: 0 };
  for (;;) {
    try {
      return await lockfile.lock(paths.events, lockOpts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
    }
    const owner = readLockOwner(lockDir);
    if (owner) {
      if (ownerAlive(owner)) throw alreadyRunning(paths, owner.pid, false);
      // The holder is dead (kill -9, power loss): remove its lock, if it is still that one.
      const guarded = await withTakeoverGuard(guardDir, () => {
        if (sameOwner(readLockOwner(lockDir), owner)) removeDir(lockDir);
      });
      if (!guarded) await sleep(RETRY_MS);
      continue;
    }
    // A lock without an owner record: a starter that has just made it and is writing the record
    // (a few ms), a holder releasing it, or a lock left by a cpwd that kept its pid only in
    // daemon.pid. Wait for the first two; after the grace, judge by daemon.pid.
    const ino = inodeOf(lockDir);
    if (ino === null) continue; // released meanwhile: try again
    if (ownerless.ino !== ino) Object.assign(ownerless, { ino, sinceMs: Date.now() });
    if (Date.now() - ownerless.sinceMs >= starterGraceMs) {
      const legacy = readPidFile(paths.pidFile);
      if (legacy && legacy.pid !== process.pid && legacyDaemonAlive(legacy)) throw alreadyRunning(paths, legacy.pid, false);
      await withTakeoverGuard(guardDir, () => {
        if (inodeOf(lockDir) === ino && readLockOwner(lockDir) === null) removeDir(lockDir);
      });
    }
    await sleep(RETRY_MS);
  }
}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * Becomes the one daemon for `paths.home`, or throws ALREADY_RUNNING naming the running one's pid.
 * On success the lock is held (its owner record and the pid file written) and any stale socket
 * file removed. `onCompromised` is called if the lock folder is later removed or replaced.
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

  const release = await takeLock(paths, onCompromised, opts.waitForStarterMs ?? 2_000);
  // Releasing goes through lockFs's rmdir, which removes the folder only while its owner record
  // still names us: a lock that has become someone else's is left to them.
  const releaseLock = () => release().catch(() => {});

  // We hold the lock now; if a daemon still answers (one that lost its lock and has not exited
  // yet), it is not ours to replace.
  const stillLive = await probeDaemon(paths.socket);
  if (stillLive && stillLive.pid !== process.pid) {
    await releaseLock();
    throw alreadyRunning(paths, stillLive.pid);
  }
  writePidFile(paths.pidFile, { pid: process.pid, startedAt: new Date().toISOString(), socket: paths.socket });
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
      removePidFile(paths.pidFile, process.pid);
      await releaseLock();
    },
  };
}
