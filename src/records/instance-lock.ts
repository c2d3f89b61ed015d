// The single-instance lock's records: the lock folder proper-lockfile makes beside events.jsonl,
// the takeover guard beside that, and `owner.json` inside each, naming who holds it. The daemon
// (daemon/instance.ts) takes and releases the lock and `cpwd stop` watches it let go; both name,
// write and read them only through here.
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isPid, isStringOrNull, readJsonObject } from "./json-record.js";

/** The owner record's name inside a lock folder. */
export const LOCK_OWNER_FILE = "owner.json";

/** Who holds a lock folder: written inside it, so it lives and dies with the folder. */
export interface LockOwner {
  pid: number;
  /** The OS start time of `pid` (see `processStartTime`), null where it cannot be read. */
  startTime: string | null;
}

/** The event log's lock folder, `<events>.lock`, named exactly as proper-lockfile names it. */
export function instanceLockDir(eventsFile: string): string {
  return `${resolve(eventsFile)}.lock`;
}

/** The guard a starter holds while it removes a dead holder's lock folder. */
export function takeoverGuardDir(lockDir: string): string {
  return `${lockDir}.takeover`;
}

/**
 * The owner recorded in a lock folder; null when the folder or the record is missing, or the
 * record is half-written or not an owner record (readers then wait, as for a folder just made).
 */
export function readLockOwner(lockDir: string): LockOwner | null {
  const raw = readJsonObject(join(lockDir, LOCK_OWNER_FILE));
  if (raw === null || !isPid(raw.pid) || !isStringOrNull(raw.startTime)) return null;
  return { pid: raw.pid, startTime: raw.startTime ?? null };
}

/** Whether two records name the same holder (the same pid, started at the same time). */
export function sameOwner(a: LockOwner | null, b: LockOwner | null): boolean {
  return a !== null && b !== null && a.pid === b.pid && a.startTime === b.startTime;
}

/**
 * Writes `owner` into a lock folder, 0600. `exclusive`: fail with EEXIST if the folder already
 * has a record, and with ENOENT if the folder is gone (a starter must never adopt a folder that
 * is no longer the one it made). One small write: a reader that catches it half-written sees no
 * owner.
 */
export function writeLockOwner(dir: string, owner: LockOwner, opts: { exclusive: boolean }): void {
  writeFileSync(join(dir, LOCK_OWNER_FILE), JSON.stringify({ pid: owner.pid, startTime: owner.startTime }), { mode: 0o600, flag: opts.exclusive ? "wx" : "w" });
}

/** Removes the owner record, which leaves the folder empty for its `rmdir`. */
export function removeLockOwner(lockDir: string): void {
  rmSync(join(lockDir, LOCK_OWNER_FILE), { force: true });
}
