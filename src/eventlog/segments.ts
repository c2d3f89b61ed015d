// The closed parts of the record and their names. events.jsonl is the live segment; when it grows
// past the configured size the daemon closes it (daemon/rotate-event-log.ts), and it lives on in
// `segments/` beside it as `events-<first seq>-<last seq>.jsonl`, then compressed as `.jsonl.gz`,
// with a snapshot of the daemon's state at its last seq, `snapshot-<seq>.json`. This module owns
// those names: listing them, and reading a segment's bytes whichever form it is in.
import { createReadStream, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createGunzip } from "node:zlib";

/** A closed segment: the events with seq first…last. */
export interface Segment {
  file: string;
  firstSeq: number;
  lastSeq: number;
  compressed: boolean;
}

/** A snapshot of the daemon's state as it stood after event `seq`. */
export interface SnapshotRef {
  file: string;
  seq: number;
}

/** What `segments/` holds. */
export interface RecordFiles {
  /** Closed segments in seq order, one per range (the compressed one when both forms are there). */
  segments: Segment[];
  /** Snapshots, oldest first. */
  snapshots: SnapshotRef[];
  /** Files a rotation cut short left behind (`.tmp`), and uncompressed segments whose `.gz` is complete. */
  leftovers: string[];
}

const SEQ_DIGITS = 12;
const SEGMENT_NAME = /^events-(\d+)-(\d+)\.jsonl(\.gz)?$/;
const SNAPSHOT_NAME = /^snapshot-(\d+)\.json$/;

/** The folder of closed segments and snapshots, beside events.jsonl. */
export function segmentsDirOf(eventsFile: string): string {
  return join(dirname(eventsFile), "segments");
}

const pad = (seq: number): string => String(seq).padStart(SEQ_DIGITS, "0");

/** The name of the closed segment holding seq first…last (`.gz` added once compressed). */
export function segmentPath(eventsFile: string, firstSeq: number, lastSeq: number, compressed = false): string {
  return join(segmentsDirOf(eventsFile), `events-${pad(firstSeq)}-${pad(lastSeq)}.jsonl${compressed ? ".gz" : ""}`);
}

/** The name of the snapshot taken after event `seq`. */
export function snapshotPath(eventsFile: string, seq: number): string {
  return join(segmentsDirOf(eventsFile), `snapshot-${pad(seq)}.json`);
}

/** Lists `segments/` (empty when it does not exist). */
export function listRecordFiles(eventsFile: string): RecordFiles {
  const dir = segmentsDirOf(eventsFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { segments: [], snapshots: [], leftovers: [] };
    throw err;
  }
  const byRange = new Map<string, Segment>();
  const out: RecordFiles = { segments: [], snapshots: [], leftovers: [] };
  for (const name of names) {
    const file = join(dir, name);
    if (name.endsWith(".tmp")) {
      out.leftovers.push(file);
      continue;
    }
    const snap = SNAPSHOT_NAME.exec(name);
    if (snap) {
      out.snapshots.push({ file, seq: Number(snap[1]) });
      continue;
    }
    const seg = SEGMENT_NAME.exec(name);
    if (!seg) continue;
    const s: Segment = { file, firstSeq: Number(seg[1]), lastSeq: Number(seg[2]), compressed: seg[3] !== undefined };
    const key = `${s.firstSeq}-${s.lastSeq}`;
    const other = byRange.get(key);
    // The .gz is renamed into place only once complete: with it there, the plain one is spare.
    if (other && other.compressed) out.leftovers.push(s.file);
    else {
      if (other) out.leftovers.push(other.file);
      byRange.set(key, s);
    }
  }
  out.segments = [...byRange.values()].sort((a, b) => a.firstSeq - b.firstSeq);
  out.snapshots.sort((a, b) => a.seq - b.seq);
  return out;
}

/** A segment's bytes, decompressed, in chunks. A segment removed meanwhile (`cpwd gc`) reads as empty. */
export async function* segmentChunks(seg: Segment): AsyncGenerator<Buffer> {
  const raw = createReadStream(seg.file, { highWaterMark: 1024 * 1024 });
  const stream = seg.compressed ? raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) : raw;
  // A pipe does not forward the source's errors: pass a missing file's on.
  if (seg.compressed) raw.once("error", (err) => stream.destroy(err));
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  } finally {
    raw.destroy();
    stream.destroy();
  }
}
