// Rotation of events.jsonl by size, and the snapshot beside each closed segment, so that start-up
// replays the newest snapshot and one live segment instead of all history.
//
// The steps, in this order, and what a kill -9 after each leaves (start-up reads the newest whole
// snapshot, then every segment after it, .jsonl or .jsonl.gz, then events.jsonl; seq is checked
// gapless, and an event is only ever in one of those files, so nothing is lost or read twice):
//  1. (EventLog, between two commits: no write in flight, every byte already fdatasync'ed)
//     events.jsonl.next is created empty; events.jsonl is renamed to segments/events-A-B.jsonl;
//     events.jsonl.next is renamed to events.jsonl; both folders fsynced.
//     Killed between the renames: no events.jsonl, a stray .next (removed at start); the record is
//     the segments, whole. Killed before the first rename: nothing changed.
//  2. The daemon's state at B is taken synchronously (the folds have applied every event up to B
//     and none after) and encoded: later events cannot leak into it.
//  3. In the background: the segment is gzipped to events-A-B.jsonl.gz.tmp, fsynced, renamed to
//     .jsonl.gz (folder fsynced), and only then the plain .jsonl is unlinked. Killed before the
//     rename: a .tmp (removed at start) and the plain segment (compressed again at start). Killed
//     after it: both forms, the .gz read and the plain one removed at start.
//  4. The snapshot goes to snapshot-B.json.tmp, fsynced, renamed (folder fsynced). Killed before
//     the rename: no snapshot-B; start-up takes the previous snapshot and reads one segment more.
//     A snapshot that is torn or altered anyway fails its SHA-256 and is passed over the same way.
// The snapshot is written after the compression so that a snapshot never names a seq whose events
// exist only in a file being rewritten; either order would be safe, this one is simpler to check.
import { closeSync, createReadStream, createWriteStream, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Logger } from "pino";
import type { ClosedSegment, EventLog, RotationFailure } from "../src/eventlog/append.js";
import { listRecordFiles, snapshotPath } from "../src/eventlog/segments.js";
import { encodeSnapshot, fsyncDir, writeFileDurably } from "../src/eventlog/snapshot-file.js";
import type { StateSnapshot } from "./state-snapshot.js";

export interface RotationDeps {
  eventsFile: string;
  log: EventLog;
  state: StateSnapshot;
  logger: Logger;
  /** Close the live file once it holds this many bytes (config `eventLogMaxBytes`). */
  maxBytes: number;
  /**
   * Fault injection for the crash tests only (env CPWD_TEST_KILL_AT): the daemon kills itself with
   * SIGKILL at the named step (`renamed`, `compressed-tmp`, `compressed`, `snapshot-tmp`, `snapshot`).
   */
  killAt?: string | undefined;
}

/** A rotation that keeps failing is warned about at most this often (the writer backs off too). */
const FAILURE_WARN_EVERY_MS = 60_000;

/** Closes segments as the log grows, compresses them and writes their snapshots, one job at a time. */
export class EventLogRotation {
  private chain: Promise<void> = Promise.resolve();
  private lastFailureWarnMs = -Infinity;
  private failuresUnwarned = 0;

  constructor(private readonly deps: RotationDeps) {}

  /** Finishes what a rotation cut short left, then rotates from now on. */
  start(): void {
    this.enqueue("finishing an earlier rotation", () => this.finishEarlier());
    this.deps.log.rotateBy({
      maxBytes: this.deps.maxBytes,
      onClosed: (seg) => this.closed(seg),
      onStep: (step) => this.step(step),
      onError: (err, info) => this.failed(err, info),
    });
  }

  /** A failed rotation: warned about (at most once a minute), since events.jsonl now grows unbounded. */
  private failed(err: unknown, info: RotationFailure): void {
    const now = Date.now();
    if (now - this.lastFailureWarnMs < FAILURE_WARN_EVERY_MS) {
      this.failuresUnwarned++;
      return;
    }
    this.deps.logger.warn(
      { err, ...info, failuresNotWarned: this.failuresUnwarned },
      info.rotated ? "events.jsonl was rotated, but not cleanly" : "events.jsonl could not be rotated; it grows until a retry succeeds",
    );
    this.lastFailureWarnMs = now;
    this.failuresUnwarned = 0;
  }

  /** Resolves once the job under way (and those queued) are done. */
  close(): Promise<void> {
    return this.chain;
  }

  private closed(seg: ClosedSegment): void {
    const { state, log, logger } = this.deps;
    // Now, in the same turn as the rename: the state is the state at seg.lastSeq exactly.
    const content = state.content(log.stats().eventCount);
    logger.info({ segment: seg.file, firstSeq: seg.firstSeq, lastSeq: seg.lastSeq }, "events.jsonl rotated");
    this.enqueue("compressing a segment", () => this.compress(seg.file));
    if (content.seq !== seg.lastSeq) {
      // A state that has not applied exactly the segment's events would be a snapshot of another seq.
      logger.warn({ segment: seg.file, lastSeq: seg.lastSeq, stateSeq: content.seq }, "the state is not at the segment's last seq; no snapshot for it");
      return;
    }
    const snapshot = encodeSnapshot(content);
    this.enqueue("writing a snapshot", () => this.writeSnapshot(snapshotPath(this.deps.eventsFile, seg.lastSeq), snapshot));
  }

  private enqueue(what: string, job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => this.deps.logger.warn({ err }, `${what} failed; the next start finishes it`));
  }

  private step(name: string): void {
    if (this.deps.killAt === name) process.kill(process.pid, "SIGKILL");
  }

  /** gzip `plain` beside itself, durably, then remove it. */
  private async compress(plain: string): Promise<void> {
    const gz = `${plain}.gz`;
    const tmp = `${gz}.tmp`;
    if (!existsSync(plain)) return; // compressed already (by the start-up's finishing job)
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(tmp, { mode: 0o600 }));
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.step("compressed-tmp");
    renameSync(tmp, gz);
    fsyncDir(dirname(gz));
    this.step("compressed");
    rmSync(plain, { force: true });
    fsyncDir(dirname(gz));
  }

  private async writeSnapshot(file: string, data: Buffer): Promise<void> {
    writeFileDurably(file, data, () => this.step("snapshot-tmp"));
    this.step("snapshot");
  }

  /** Removes what a cut-short rotation left and compresses segments still plain. */
  private async finishEarlier(): Promise<void> {
    const files = listRecordFiles(this.deps.eventsFile);
    for (const f of files.leftovers) rmSync(f, { force: true });
    for (const seg of files.segments) if (!seg.compressed) await this.compress(seg.file);
  }
}
