// What the record on disk says when no daemon answers — the one way the CLI reads it offline: the
// workers (`cpwd status`, `status W3`, `logs`, `diff`/`merge`, `replay`, `gc`) and the file claims
// (`cpwd claims`), folded from the newest whole snapshot, the closed segments after it, then
// events.jsonl (src/eventlog/record-fold.ts, the pass the daemon's start-up makes). Light passes:
// only worker transitions and claim lines are parsed, found by a native search.
import { statSync } from "node:fs";
import { ClaimTable, listedClaim } from "../daemon/coordination/claims.js";
import { ENDED } from "../daemon/coordination/digests.js";
import { findRemovedWorkers } from "../daemon/open-event-log.js";
import { STATE_FOLD_VERSION } from "../daemon/state-snapshot.js";
import { foldRecord, type RecordFold } from "../src/eventlog/record-fold.js";
import type { WorkerView } from "../src/protocol/workers.js";
import type { WorkerRecord } from "../src/workers/machine.js";
import { applyWorkerEvent, emptyWorkersState, replayKeeps, type WorkersState } from "../src/workers/replay.js";
import { toView } from "../src/workers/view.js";

/**
 * The workers as the record leaves them at seq `at`, in two light passes, as the daemon starts:
 * which workers end removed (their lines are then passed over), then the fold from the snapshot.
 */
export async function readRecordWorkers(eventsFile: string, at = Infinity): Promise<{ state: WorkersState; fold: RecordFold }> {
  const state = emptyWorkersState();
  const removed = await findRemovedWorkers(eventsFile, at);
  const fold = await foldRecord(eventsFile, (e) => applyWorkerEvent(state, e), {
    upToSeq: at,
    needle: '"type":"worker.',
    keepLine: replayKeeps(state, removed),
    // Records made by another fold mean something else: the daemon passes them over, and so do we.
    snapshotFold: STATE_FOLD_VERSION,
  });
  state.lastSeq = fold.lastSeq;
  return { state, fold };
}

/**
 * What a fold with gaps leaves out, in words (null when it has none): the first stretch of seq that
 * no segment or whole snapshot holds any more. A worker queued there is missing from what the fold
 * gives, and so are its claims.
 */
export function describeRecordGaps(gaps: RecordFold["gaps"]): string | null {
  const g = gaps[0];
  if (!g) return null;
  const more = gaps.length > 1 ? ` (and ${gaps.length - 1} more stretch${gaps.length === 2 ? "" : "es"})` : "";
  return `the record has no events ${g.after + 1}…${g.next - 1}${more} and no whole snapshot after them (segments or snapshots were removed or are torn)`;
}

/** The warning an offline reading prints on stderr when the record has gaps; null when it has none. */
export function recordGapsWarning(command: string, gaps: RecordFold["gaps"]): string | null {
  const gap = describeRecordGaps(gaps);
  return gap && `cpwd ${command}: warning: ${gap}, so workers and claims recorded there are missing below; restore segments/ or a snapshot under the home (the daemon will not start without them)`;
}

/** The workers of `state` in id order. */
export function workersById(state: WorkersState): WorkerRecord[] {
  return [...state.workers.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
}

/** The workers any of `targets` names (an id, a name, or `all`), each once, in id order. */
export function namedWorkers(state: WorkersState, targets: string[]): WorkerRecord[] {
  return workersById(state).filter((w) => targets.some((t) => t === "all" || t === w.id || t === w.name));
}

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
  /** Stretches of seq no segment or whole snapshot holds any more: workers and claims may be missing. */
  gaps: RecordFold["gaps"];
}

/** A fold of the record, kept while events.jsonl is unchanged (`status --watch` redraws every second). */
let lastFold: { key: string; workers: WorkersState; claims: ClaimTable; lastSeq: number; gaps: RecordFold["gaps"] } | null = null;

/** events.jsonl's path, size and modification time: while the daemon is down, the record's state. */
function recordKey(eventsFile: string): string {
  try {
    const st = statSync(eventsFile);
    return `${eventsFile}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `${eventsFile}:none`;
  }
}

/** The workers and the claims, folded from the whole record (the claims in a pass of their own). */
async function foldWorkersAndClaims(eventsFile: string): Promise<NonNullable<typeof lastFold>> {
  const key = recordKey(eventsFile);
  if (lastFold?.key === key) return lastFold;
  const { state, fold } = await readRecordWorkers(eventsFile);
  const claims = new ClaimTable(Infinity);
  await foldRecord(eventsFile, (e) => claims.apply(e, Date.parse(e.ts) || 0), { needle: '"type":"claim.', keepLine: (e) => e.type.startsWith("claim."), snapshotFold: STATE_FOLD_VERSION });
  lastFold = { key, workers: state, claims, lastSeq: fold.lastSeq, gaps: fold.gaps };
  return lastFold;
}

/**
 * Replays `eventsFile`. Claim TTLs are not applied: nobody can refresh a claim while the daemon is
 * down, and a starting daemon counts each TTL from its start, so every claim of a live worker holds.
 */
export async function readRecordState(eventsFile: string, nowMs = Date.now()): Promise<RecordState> {
  const { workers, claims, lastSeq, gaps } = await foldWorkersAndClaims(eventsFile);
  const records = workersById(workers);
  const held = claims.list(nowMs).filter((c) => {
    const w = workers.workers.get(c.worker);
    return w !== undefined && !ENDED.has(w.state);
  });
  return {
    workers: records.map((w) => toView(w, nowMs)),
    claims: held.map((c) => ({ ...listedClaim(c, workers.workers.get(c.worker)?.name, nowMs), fromRecord: true as const })),
    lastSeq,
    gaps,
  };
}
