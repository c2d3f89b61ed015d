// Opens the event log at start: one streamed pass over the record (the newest whole snapshot, the
// closed segments after it, the live events.jsonl) folding the daemon's state as it goes, a torn
// tail cut into quarantine, the log opened for appends, and `log.recovered` / `daemon.started`
// recorded. Nothing is kept per event: what the areas replay is the folded state (state-snapshot.ts).
import { rmSync } from "node:fs";
import type { Logger } from "pino";
import { EventLog } from "../src/eventlog/append.js";
import { foldRecord } from "../src/eventlog/record-fold.js";
import { cutTornTail } from "../src/eventlog/recover.js";
import { SeqIndex } from "../src/eventlog/seq-index.js";
import type { CpwdPaths } from "../src/platform/paths.js";
import { CpwdError, ErrorCode } from "../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../src/protocol/events.js";
import type { SecretMask } from "../src/protocol/secret-mask.js";
import { RemovedWorkers } from "../src/workers/replay.js";
import { STATE_FOLD_VERSION, StateSnapshot } from "./state-snapshot.js";

export interface OpenedEventLog {
  log: EventLog;
  /** What the areas replay: the state before this start, as a snapshot's records (bounded). */
  history: EventRecord[];
  /** The daemon's state, kept up to date with every durable event: what a rotation's snapshot writes. */
  state: StateSnapshot;
  /** The fids of fallback records already ingested, so none is ingested twice: the intake's own set. */
  seenFallback: Set<string>;
  /** The last seq before this start. */
  lastSeq: number;
}

/** The workers the record removes up to seq `upToSeq`: a native search for their removals (also `cpwd replay`'s first pass). */
export async function findRemovedWorkers(eventsFile: string, upToSeq = Infinity): Promise<RemovedWorkers> {
  const removed = new RemovedWorkers();
  await foldRecord(eventsFile, () => {}, { upToSeq, snapshotFold: STATE_FOLD_VERSION, needle: '"type":"worker.removed"', keepLine: (e) => (removed.note(e.type, e.workerNumber, e.seq), false) });
  return removed;
}

/**
 * Recovers and opens `paths.events`, then records this start (and any recovery) durably. `mask`:
 * secret values the log keeps out of the file. `keepEndedMs`: config `digestRecentMs`.
 */
export async function openEventLog(paths: CpwdPaths, version: string, logger: Logger, mask?: SecretMask, keepEndedMs = 3_600_000): Promise<OpenedEventLog> {
  // A rotation cut short between its two renames leaves the next live file under its temp name.
  rmSync(`${paths.events}.next`, { force: true });
  const state = new StateSnapshot(keepEndedMs);
  const index = new SeqIndex();
  // Two passes, the first a native search for removals: a removed worker's lines are then passed over.
  const removed = await findRemovedWorkers(paths.events);
  const fold = await foldRecord(
    paths.events,
    (e, live, offset) => {
      if (live) index.note(e.seq, offset);
      state.apply(e);
    },
    { keepLine: state.startupKeeps(removed), snapshotFold: STATE_FOLD_VERSION },
  );
  for (const file of fold.tornSnapshots) logger.warn({ file }, "a snapshot is torn (or of another fold version); replaying from an older one or the segments");
  const rotated = fold.files.segments.length > 0 || fold.files.snapshots.length > 0;
  if (rotated && fold.gaps.length > 0) {
    // Never an empty (or partial) state: a daemon that cannot rebuild what it knew must not start.
    const g = fold.gaps[0]!;
    throw new CpwdError(ErrorCode.Io, `the record has no events ${g.after + 1}…${g.next - 1} and no whole snapshot after them; restore segments/ or a snapshot`);
  }
  if (fold.snapshot) state.takeMeta(fold.snapshot.meta);
  state.caughtUp(fold.lastSeq, fold.lastTs);
  const live = fold.live;
  const recovery = cutTornTail(paths.events, paths.quarantine, live.goodEndBytes, live.sizeBytes, live.badLinesInTail);
  const history = state.records();
  const log = await EventLog.open(
    paths.events,
    { lastSeq: fold.lastSeq, eventCount: fold.eventCount, sizeBytes: live.goodEndBytes, index, firstSeq: live.eventCount > 0 ? live.lastSeq - live.eventCount + 1 : fold.lastSeq + 1 },
    mask ? { mask } : {},
  );
  log.subscribe((records) => {
    for (const e of records) state.apply(e);
  });

  const startup: EventInput[] = [];
  if (recovery.truncatedBytes > 0) {
    logger.warn({ ...recovery, quarantine: paths.quarantine }, "torn tail of events.jsonl moved to quarantine");
    startup.push({
      type: "log.recovered",
      payload: { ...recovery, quarantine: paths.quarantine, lastSeq: fold.lastSeq },
    });
  }
  startup.push({
    type: "daemon.started",
    payload: { pid: process.pid, version, recoveredSeq: fold.lastSeq, socket: paths.socket },
  });
  await log.append(startup);
  return { log, history, state, seenFallback: state.seenFallbackCopy(), lastSeq: fold.lastSeq };
}
