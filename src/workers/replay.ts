// Replay: the supervisor's state as a pure fold over the event log. Also what `cpwd replay --at`
// prints, without a daemon. Events a worker's state does not allow (a corrupt or hand-edited log)
// are skipped and counted rather than stopping the fold.
import type { EventRecord } from "../protocol/events.js";
import { evolve, isTransition, TransitionError, type WorkerRecord } from "./machine.js";

export interface WorkersState {
  workers: Map<string, WorkerRecord>;
  /** The next worker number: ids are never reused, even after `rm` and daemon restarts. */
  nextNumber: number;
  /** Events skipped because the machine refused them. */
  anomalies: number;
  lastSeq: number;
}

export function emptyWorkersState(): WorkersState {
  return { workers: new Map(), nextNumber: 1, anomalies: 0, lastSeq: 0 };
}

/** Applies one event in place (other types pass by). */
export function applyWorkerEvent(s: WorkersState, e: EventRecord): void {
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

/** Folds events (up to and including seq `atSeq`, if given) into the workers' state. */
export function replayWorkers(events: Iterable<EventRecord>, atSeq = Infinity): WorkersState {
  const s = emptyWorkersState();
  for (const e of events) {
    if (e.seq > atSeq) break;
    applyWorkerEvent(s, e);
  }
  return s;
}
