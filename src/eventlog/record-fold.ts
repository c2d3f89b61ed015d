// One pass over the whole record — the newest whole snapshot, the closed segments after it, then
// the live events.jsonl — for whoever rebuilds state from it (the daemon at start, `cpwd replay`).
// Streamed: chunks are split into lines and handed on as they come, nothing is kept per event, so
// memory stays flat whatever the history. A torn snapshot is passed over for an older one, then
// for the segments from the start; what no snapshot and no segment covers is reported as a gap.
import type { EventRecord } from "../protocol/events.js";
import { envelopeOf, type Envelope } from "./envelope.js";
import { NeedleScanner } from "./needle-scan.js";
import { LineScanner, readFileChunks, scanLogWith, type ScanResult } from "./scan.js";
import { listRecordFiles, segmentChunks, type RecordFiles, type Segment } from "./segments.js";
import { readSnapshot, type SnapshotContent } from "./snapshot-file.js";

export interface FoldRecordOptions {
  /** Which lines are wanted, from their envelope (the rest are counted, never parsed). @default all */
  keepLine?: (e: Envelope) => boolean;
  /**
   * Look only at lines holding these bytes (found by a native search, see NeedleScanner): the
   * lightest scan, for a reader that wants few lines. `eventCount` and `live` are then not counted.
   */
  needle?: string;
  /** Stop after this seq (`cpwd replay --at`). @default no bound */
  upToSeq?: number;
  /** Start from the newest whole snapshot (at or before `upToSeq`). @default true */
  fromSnapshot?: boolean;
  /** Take only snapshots made by this fold version (others are passed over as torn). @default any */
  snapshotFold?: number;
}

export interface RecordFold {
  /** The snapshot the fold started from (its records were handed on first), or null. */
  snapshot: SnapshotContent | null;
  /** Snapshots found torn or altered (or of another fold, or not the seq they are named for) and passed over. */
  tornSnapshots: string[];
  /** The last seq of the record (at most `upToSeq`); 0 for an empty one. */
  lastSeq: number;
  /** The ts of the last event, or null. */
  lastTs: string | null;
  /** Events in the record: the snapshot's count plus those read after it. */
  eventCount: number;
  /** Stretches of seq no snapshot or segment holds any more (`after` is the last seq before). */
  gaps: Array<{ after: number; next: number }>;
  /** The scan of the live events.jsonl (offsets for recovery and the seq index). */
  live: ScanResult;
  files: RecordFiles;
}

/** A scanner over one part of the record, line by line or by needle. */
type PartScanner = { push(chunk: Buffer): void; readonly done: boolean; readonly lastTs: string | null; readonly lastSeq: number; readonly count: number };

/**
 * Hands `onEvent` the record's events in order — the snapshot's records first when one is taken,
 * then every event after it — with `live` true and the byte offset for lines of events.jsonl.
 */
export async function foldRecord(
  eventsFile: string,
  onEvent: (e: EventRecord, live: boolean, offset: number) => void,
  opts: FoldRecordOptions = {},
): Promise<RecordFold> {
  const files = listRecordFiles(eventsFile);
  const upToSeq = opts.upToSeq ?? Infinity;
  const { snapshot, tornSnapshots } = (opts.fromSnapshot ?? true) ? newestWholeSnapshot(files, upToSeq, opts.snapshotFold) : { snapshot: null, tornSnapshots: [] };
  let last = snapshot?.seq ?? 0;
  let eventCount = snapshot && typeof snapshot.meta.eventCount === "number" ? snapshot.meta.eventCount : 0;
  let lastTs: string | null = snapshot && typeof snapshot.meta.lastTs === "string" ? snapshot.meta.lastTs : null;
  const keep = opts.keepLine ?? (() => true);
  for (const r of snapshot?.records ?? []) if (keep(envelopeOf(r))) onEvent(r, false, -1);
  const gaps: RecordFold["gaps"] = [];
  const noteGap = (first: number) => {
    if (first > last + 1) gaps.push({ after: last, next: first });
  };
  for (const seg of files.segments) {
    if (seg.lastSeq <= last) continue;
    if (last >= upToSeq) break;
    noteGap(seg.firstSeq);
    const scanner = partScanner(opts, (e) => onEvent(e, false, -1), last, upToSeq);
    await pushSegment(seg, scanner);
    eventCount += scanner.count;
    if (scanner.lastSeq > last) [last, lastTs] = [scanner.lastSeq, scanner.lastTs ?? lastTs];
  }
  let live: ScanResult = { sizeBytes: 0, goodEndBytes: 0, lastSeq: 0, eventCount: 0, badLinesKept: 0, badLinesInTail: 0 };
  if (last < upToSeq) {
    const scanner = partScanner(opts, (e, offset) => onEvent(e, true, offset), last, upToSeq);
    if (scanner instanceof LineScanner) live = scanLogWith(eventsFile, scanner);
    else readFileChunks(eventsFile, 0, (chunk) => (scanner.push(chunk), !scanner.done));
    if (scanner.lastSeq > last) {
      if (scanner.count > 0) noteGap(scanner.lastSeq - scanner.count + 1);
      [last, lastTs] = [scanner.lastSeq, scanner.lastTs ?? lastTs];
    }
    eventCount += scanner.count;
  }
  return { snapshot, tornSnapshots, lastSeq: last, lastTs, eventCount, gaps, live, files };
}

/** The newest snapshot at or before `upToSeq` that reads whole (of fold `fold`), and those passed over. */
function newestWholeSnapshot(files: RecordFiles, upToSeq: number, fold?: number): { snapshot: SnapshotContent | null; tornSnapshots: string[] } {
  const tornSnapshots: string[] = [];
  for (const ref of [...files.snapshots].reverse()) {
    if (ref.seq > upToSeq) continue;
    const snapshot = readSnapshot(ref.file, fold === undefined ? { seq: ref.seq } : { seq: ref.seq, fold });
    if (snapshot) return { snapshot, tornSnapshots };
    tornSnapshots.push(ref.file);
  }
  return { snapshot: null, tornSnapshots };
}

function partScanner(opts: FoldRecordOptions, onEvent: (e: EventRecord, offset: number) => void, afterSeq: number, upToSeq: number): PartScanner & (LineScanner | NeedleScanner) {
  const o = { keepLine: opts.keepLine, upToSeq, afterSeq };
  return opts.needle === undefined ? new LineScanner(onEvent, o) : new NeedleScanner(opts.needle, (e) => onEvent(e, -1), o);
}

async function pushSegment(seg: Segment, scanner: PartScanner): Promise<void> {
  for await (const chunk of segmentChunks(seg)) {
    scanner.push(chunk);
    if (scanner.done) break;
  }
  if (scanner instanceof LineScanner) scanner.end();
}
