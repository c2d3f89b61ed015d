// The fallback log: where the hook shim and the CLI record events while the daemon is down. Each
// record is one line written with a single write() on an O_APPEND descriptor, so concurrent
// writers never interleave or tear each other's lines. Node built-ins only: the shim imports it.
import { closeSync, openSync, writeSync } from "node:fs";

/** One line of events.fallback.jsonl. `fid` makes ingestion exactly-once. */
export interface FallbackRecord {
  fid: string;
  ts: string;
  type: string;
  worker?: string;
  session?: string;
  payload: Record<string, unknown>;
}

/**
 * A unique id for a fallback record: wall time, pid, a monotonic clock and randomness. Two shims
 * never share a pid at the same instant, so this does not need node:crypto (≈2.8 ms to load on
 * the shim's path).
 */
export function newFallbackId(): string {
  const rand = Math.floor(Math.random() * 2 ** 32).toString(36);
  return `${Date.now().toString(36)}-${process.pid.toString(36)}-${(process.hrtime.bigint() % 1_000_000_000n).toString(36)}-${rand}`;
}

/** Appends one record as one line with one write. Throws on I/O errors (the caller decides). */
export function appendFallback(file: string, record: Omit<FallbackRecord, "fid" | "ts"> & Partial<FallbackRecord>): FallbackRecord {
  const full: FallbackRecord = { fid: record.fid ?? newFallbackId(), ts: record.ts ?? new Date().toISOString(), ...record } as FallbackRecord;
  const line = Buffer.from(`${JSON.stringify(full)}\n`);
  const fd = openSync(file, "a", 0o600);
  try {
    // One write() call: O_APPEND places it atomically at the end. A short write on a regular file
    // only happens when the disk is full, and then the line is torn whatever we do; the ingester
    // skips a line that does not parse.
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
  return full;
}
