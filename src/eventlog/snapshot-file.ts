// A snapshot file (segments/snapshot-<seq>.json): a header line, then one record a line. The
// header names the seq it stands at, how many records follow and the SHA-256 of those lines, so
// a torn or altered file is told from a whole one and refused (readers then fall back to an older
// snapshot or to the segments, never to an empty state). What the records are is the daemon's
// business (daemon/state-snapshot.ts), and so is the version of the fold that made them (`fold`),
// which a reader may require; this module owns the format and writes it durably.
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { EventRecord } from "../protocol/events.js";
import { parseEventLine } from "./record.js";

export const SNAPSHOT_KIND = "cpwd.snapshot";

/** What a snapshot holds. */
export interface SnapshotContent {
  /** The seq of the last event it folds in. */
  seq: number;
  /** The version of the fold that made the records: another fold cannot take them (1 when unsaid). */
  fold: number;
  /** Facts beside the records (how many events the record held, fallback ids…). */
  meta: Record<string, unknown>;
  /** Records to replay, in order, as if they were the log up to `seq`. */
  records: EventRecord[];
}

/** The file's bytes for `content`. */
export function encodeSnapshot(content: SnapshotContent): Buffer {
  const body = content.records.map((r) => `${JSON.stringify(r)}\n`).join("");
  const sha256 = createHash("sha256").update(body).digest("hex");
  const header = JSON.stringify({ v: 1, kind: SNAPSHOT_KIND, seq: content.seq, fold: content.fold, records: content.records.length, sha256, meta: content.meta });
  return Buffer.from(`${header}\n${body}`);
}

/** What a reader requires of a snapshot besides being whole. */
export interface SnapshotExpectation {
  /** The seq its file is named for: a header saying another was copied or renamed by hand. */
  seq?: number;
  /** The reader's fold version: records made by another fold are not taken. */
  fold?: number;
}

/** Reads a snapshot; null when it is missing, torn, altered, not one, or not what `expect` says. */
export function readSnapshot(file: string, expect: SnapshotExpectation = {}): SnapshotContent | null {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return null;
  }
  const nl = buf.indexOf(10);
  if (nl < 0) return null;
  let header: { v?: unknown; kind?: unknown; seq?: unknown; fold?: unknown; records?: unknown; sha256?: unknown; meta?: unknown };
  try {
    header = JSON.parse(buf.toString("utf8", 0, nl)) as typeof header;
  } catch {
    return null;
  }
  if (header.v !== 1 || header.kind !== SNAPSHOT_KIND || typeof header.seq !== "number" || typeof header.records !== "number") return null;
  // Written before the fold had a version: by the first one.
  const fold = header.fold === undefined ? 1 : header.fold;
  if (typeof fold !== "number") return null;
  if ((expect.seq !== undefined && header.seq !== expect.seq) || (expect.fold !== undefined && fold !== expect.fold)) return null;
  const body = buf.subarray(nl + 1);
  if (createHash("sha256").update(body).digest("hex") !== header.sha256) return null;
  const records: EventRecord[] = [];
  for (const line of body.toString("utf8").split("\n")) {
    if (line === "") continue;
    const r = parseEventLine(line);
    if (!r) return null;
    records.push(r);
  }
  if (records.length !== header.records) return null;
  const meta = typeof header.meta === "object" && header.meta !== null ? (header.meta as Record<string, unknown>) : {};
  return { seq: header.seq, fold, meta, records };
}

/**
 * Writes `data` to `file` so that a crash at any point leaves either no file or the whole one: a
 * temp file beside it, fsynced, renamed into place, and the folder fsynced so the rename stays.
 * `beforeRename`: told when the temp file is whole (crash tests stop there).
 */
export function writeFileDurably(file: string, data: Buffer, beforeRename?: () => void): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  beforeRename?.();
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

/** Makes a folder's entries (a rename, a new or removed file) durable. (Windows cannot open a folder: there, NTFS journals it.) */
export function fsyncDir(dir: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
