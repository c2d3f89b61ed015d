// What the record on disk says when no daemon answers: the workers and the file claims replayed
// from it (src/eventlog/record-fold.ts: snapshot, segments, events.jsonl), for `cpwd status` and
// `cpwd claims` with the daemon down. Only worker and claim lines are parsed.
import { statSync } from "node:fs";
import { ClaimTable, listedClaim } from "../daemon/coordination/claims.js";
import { ENDED } from "../daemon/coordination/digests.js";
import { foldRecord } from "../src/eventlog/record-fold.js";
import type { WorkerView } from "../src/protocol/workers.js";
import { applyWorkerEvent, emptyWorkersState, type WorkersState } from "../src/workers/replay.js";
import { toView } from "../src/workers/view.js";

/** One claim as `claims.list` gives it, plus where it came from. */
export interface RecordedClaim {
  path: string;
  worker: string;
  name?: string;
  session?: string;
  acquiredAt: string;
  heldMs: number;
  fromRecord: true;
}

export interface RecordState {
  /** Every worker not removed, by id number. */
  workers: WorkerView[];
  /** Claims of workers that have not ended (a daemon starting releases the others at once). */
  claims: RecordedClaim[];
  /** The record's last seq (0 for an empty or missing record). */
  lastSeq: number;
}

/** A fold of the record, kept while events.jsonl is unchanged (`status --watch` redraws every second). */
let lastFold: { key: string; workers: WorkersState; claims: ClaimTable; lastSeq: number } | null = null;

/** events.jsonl's path, size and modification time: while the daemon is down, the record's state. */
function recordKey(eventsFile: string): string {
  try {
    const st = statSync(eventsFile);
    return `${eventsFile}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `${eventsFile}:none`;
  }
}

/** The whole record folded: the newest snapshot, the closed segments after it, then events.jsonl. */
async function foldWorkersAndClaims(eventsFile: string): Promise<NonNullable<typeof lastFold>> {
  const key = recordKey(eventsFile);
  if (lastFold?.key === key) return lastFold;
  const workers = emptyWorkersState();
  const claims = new ClaimTable(Infinity);
  const fold = await foldRecord(
    eventsFile,
    (e) => {
      applyWorkerEvent(workers, e);
      claims.apply(e, Date.parse(e.ts) || 0);
    },
    { keepLine: (e) => e.type.startsWith("worker.") || e.type.startsWith("claim.") },
  );
  lastFold = { key, workers, claims, lastSeq: fold.lastSeq };
  return lastFold;
}

/**
 * Replays `eventsFile`. Claim TTLs are not applied: nobody can refresh a claim while the daemon is
 * down, and a starting daemon counts each TTL from its start, so every claim of a live worker holds.
 */
export async function readRecordState(eventsFile: string, nowMs = Date.now()): Promise<RecordState> {
  const { workers, claims, lastSeq } = await foldWorkersAndClaims(eventsFile);
  const records = [...workers.workers.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  const held = claims.list(nowMs).filter((c) => {
    const w = workers.workers.get(c.worker);
    return w !== undefined && !ENDED.has(w.state);
  });
  return {
    workers: records.map((w) => toView(w, nowMs)),
    claims: held.map((c) => ({ ...listedClaim(c, workers.workers.get(c.worker)?.name, nowMs), fromRecord: true as const })),
    lastSeq,
  };
}
