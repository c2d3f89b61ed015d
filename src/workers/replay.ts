// Replay: the supervisor's state as a pure fold over the event log. Also what `cpwd replay --at`
// prints, without a daemon. Events a worker's state does not allow (a corrupt or hand-edited log)
// are skipped and counted rather than stopping the fold. A snapshot (daemon/state-snapshot.ts)
// carries the fold's result as one record, `snapshot.workers`, which the fold takes as its state.
import type { EventRecord } from "../protocol/events.js";
import { evolve, isTransition, TRANSITIONS, TransitionError, type WorkerRecord } from "./machine.js";

/** The type of the record that holds the folded workers in a snapshot (never in events.jsonl). */
export const WORKERS_STATE_TYPE = "snapshot.workers";

export interface WorkersState {
  workers: Map<string, WorkerRecord>;
  /** The next worker number: ids are never reused, even after `rm` and daemon restarts. */
  nextNumber: number;
  /** Events skipped because the machine refused them. */
  anomalies: number;
  lastSeq: number;
  /** The seq of the `snapshot.workers` record taken, if any: events up to it are in it already. */
  restoredSeq: number;
}

export function emptyWorkersState(): WorkersState {
  return { workers: new Map(), nextNumber: 1, anomalies: 0, lastSeq: 0, restoredSeq: 0 };
}

/** Applies one event in place (other types pass by). */
export function applyWorkerEvent(s: WorkersState, e: EventRecord): void {
  if (e.type === WORKERS_STATE_TYPE) return restoreWorkers(s, e);
  if (e.seq <= s.restoredSeq) return;
  s.lastSeq = e.seq;
  if (!isTransition(e.type) || !e.worker) return;
  const m = /^W(\d+)$/.exec(e.worker);
  if (m) s.nextNumber = Math.max(s.nextNumber, Number(m[1]) + 1);
  try {
    const next = evolve(s.workers.get(e.worker), e);
    if (next) s.workers.set(e.worker, next);
    else s.workers.delete(e.worker);
  } catch (err) {
    if (!(err instanceof TransitionError)) throw err;
    s.anomalies++;
  }
}

/** The state as one record, for a snapshot taken at `s.lastSeq`. */
export function workersStateRecord(s: WorkersState, ts: string): EventRecord {
  return {
    v: 1,
    seq: s.lastSeq,
    ts,
    type: WORKERS_STATE_TYPE,
    source: "daemon",
    payload: { workers: [...s.workers.values()], nextNumber: s.nextNumber, anomalies: s.anomalies },
  };
}

/** Takes a `snapshot.workers` record as the whole state. */
function restoreWorkers(s: WorkersState, e: EventRecord): void {
  const p = e.payload as { workers?: unknown; nextNumber?: unknown; anomalies?: unknown };
  if (!Array.isArray(p.workers) || typeof p.nextNumber !== "number") throw new Error(`a ${WORKERS_STATE_TYPE} record without its workers (seq ${e.seq})`);
  s.workers = new Map((p.workers as WorkerRecord[]).map((w) => [w.id, w]));
  s.nextNumber = p.nextNumber;
  s.anomalies = typeof p.anomalies === "number" ? p.anomalies : 0;
  s.lastSeq = e.seq;
  s.restoredSeq = e.seq;
}

/** The event types that move a worker, as a set (looked up for every line of a replay). */
const TRANSITION_TYPES: ReadonlySet<string> = new Set(Object.keys(TRANSITIONS));

/**
 * The workers the record removes, with the seq of each one's `worker.removed`: a first, light pass
 * over the record finds them, and the replay then passes over their events up to that seq unparsed
 * — they fold to nothing (ids are never reused), but for the next worker number, which the line
 * gives. Their refused transitions, if any, are then not counted among the anomalies.
 */
export class RemovedWorkers {
  /** By worker number: the seq of its removal, 0 for none. */
  private removedAt = new Float64Array(1024);

  /** Notes a `worker.removed` line of the first pass (other lines pass by). */
  note(type: string, workerNumber: number, seq: number): void {
    if (workerNumber < 0 || type !== "worker.removed") return;
    if (workerNumber >= this.removedAt.length) {
      const grown = new Float64Array(Math.max(workerNumber + 1, this.removedAt.length * 2));
      grown.set(this.removedAt);
      this.removedAt = grown;
    }
    this.removedAt[workerNumber] = seq;
  }

  /** Is this line of a worker's that its removal (at or after it) folds away? */
  covers(workerNumber: number, seq: number): boolean {
    return workerNumber >= 0 && workerNumber < this.removedAt.length && seq <= this.removedAt[workerNumber]!;
  }
}

/**
 * Which lines a replay into `s` must parse, from a line's envelope: transitions of workers not
 * removed, and snapshot state. A removed worker's line only moves the next number.
 */
export function replayKeeps(s: WorkersState, removed: RemovedWorkers): (e: { seq: number; type: string; workerNumber: number }) => boolean {
  return (e) => {
    if (e.type === WORKERS_STATE_TYPE) return true;
    if (!TRANSITION_TYPES.has(e.type)) return false;
    if (!removed.covers(e.workerNumber, e.seq)) return true;
    if (e.workerNumber >= s.nextNumber) s.nextNumber = e.workerNumber + 1;
    return false;
  };
}

/** Folds events (up to and including seq `atSeq`, if given) into the workers' state. */
export function replayWorkers(events: Iterable<EventRecord>, atSeq = Infinity): WorkersState {
  const s = emptyWorkersState();
  for (const e of events) {
    if (e.seq > atSeq) break;
    applyWorkerEvent(s, e);
  }
  return s;
}
