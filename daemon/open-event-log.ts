// Opens the event log at start: one scan for replay, a torn tail cut into quarantine, the log
// opened for appends, and `log.recovered` / `daemon.started` recorded.
import type { Logger } from "pino";
import { EventLog } from "../src/eventlog/append.js";
import { cutTornTail } from "../src/eventlog/recover.js";
import { scanLog } from "../src/eventlog/scan.js";
import { SeqIndex } from "../src/eventlog/seq-index.js";
import type { CpwdPaths } from "../src/platform/paths.js";
import type { EventInput, EventRecord } from "../src/protocol/events.js";
import type { SecretMask } from "../src/protocol/secret-mask.js";

export interface OpenedEventLog {
  log: EventLog;
  /** Every event before this start, in order: what the areas replay. */
  history: EventRecord[];
  /** The fids of fallback records already ingested, so none is ingested twice. */
  seenFallback: Set<string>;
  /** The last seq before this start. */
  lastSeq: number;
}

/**
 * Recovers and opens `paths.events`, then records this start (and any recovery) durably. `mask`:
 * secret values the log keeps out of the file.
 */
export async function openEventLog(paths: CpwdPaths, version: string, logger: Logger, mask?: SecretMask): Promise<OpenedEventLog> {
  // One pass over the log: state to replay, the seq index, fids of ingested fallback records.
  const history: EventRecord[] = [];
  const index = new SeqIndex();
  const seenFallback = new Set<string>();
  const scan = scanLog(paths.events, (e, offset) => {
    index.note(e.seq, offset);
    history.push(e);
    if (e.source === "fallback" && typeof e.payload.fallbackId === "string") seenFallback.add(e.payload.fallbackId);
  });
  const recovery = cutTornTail(paths.events, paths.quarantine, scan.goodEndBytes, scan.sizeBytes, scan.badLinesInTail);
  const log = await EventLog.open(
    paths.events,
    { lastSeq: scan.lastSeq, eventCount: scan.eventCount, sizeBytes: scan.goodEndBytes, index },
    mask ? { mask } : {},
  );

  const startup: EventInput[] = [];
  if (recovery.truncatedBytes > 0) {
    logger.warn({ ...recovery, quarantine: paths.quarantine }, "torn tail of events.jsonl moved to quarantine");
    startup.push({
      type: "log.recovered",
      payload: { ...recovery, quarantine: paths.quarantine, lastSeq: scan.lastSeq },
    });
  }
  startup.push({
    type: "daemon.started",
    payload: { pid: process.pid, version, recoveredSeq: scan.lastSeq, socket: paths.socket },
  });
  await log.append(startup);
  return { log, history, seenFallback, lastSeq: scan.lastSeq };
}
