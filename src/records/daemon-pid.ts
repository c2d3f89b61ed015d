// `$CPWD_HOME/daemon.pid`: the running daemon's pid, start and socket. Written and removed by the
// daemon (daemon/instance.ts); read to judge a lock left by a cpwd that kept its pid only here.
import { rmSync, writeFileSync } from "node:fs";
import { isPid, readJsonObject } from "./json-record.js";

/** The pid file's content. */
export interface PidRecord {
  pid: number;
  /** When the daemon wrote it, ISO 8601. */
  startedAt: string;
  socket: string;
}

/** The pid file's record; null when it is absent, half-written or not a pid record. */
export function readPidFile(file: string): PidRecord | null {
  const raw = readJsonObject(file);
  if (raw === null || !isPid(raw.pid) || typeof raw.startedAt !== "string" || typeof raw.socket !== "string") return null;
  return { pid: raw.pid, startedAt: raw.startedAt, socket: raw.socket };
}

/** Writes the pid file, 0600, one line. */
export function writePidFile(file: string, record: PidRecord): void {
  writeFileSync(file, `${JSON.stringify({ pid: record.pid, startedAt: record.startedAt, socket: record.socket })}\n`, { mode: 0o600 });
}

/** Removes the pid file if it still names `pid`: a later daemon's file is left to it. */
export function removePidFile(file: string, pid: number): void {
  if (readPidFile(file)?.pid === pid) rmSync(file, { force: true });
}
