// The supervisor's state of record and its one lock. Every change is appended to the event log
// durably, then applied (`commit`), and changes run one at a time, in arrival order (`locked`).
// Waiting for a worker to reach a state is driven by those commits, with a deadline on the clock.
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { evolve, type WorkerRecord } from "../../src/workers/machine.js";
import { applyWorkerEvent, emptyWorkersState, type WorkersState } from "../../src/workers/replay.js";
import type { Clock, EventAppender } from "../context.js";

/** A simple async mutex: state changes run one at a time, in arrival order. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => {});
    return result;
  }
}

export class Ledger {
  private readonly state: WorkersState = emptyWorkersState();
  private readonly lock = new Lock();
  /** Conditions awaited by `waitFor`, checked after every commit. */
  private readonly waiters = new Set<() => void>();
  private closedFlag = false;

  constructor(
    private readonly events: EventAppender,
    private readonly clock: Clock,
  ) {}

  /** Folds the log's history in (at start, before any change); returns how many events the machine refused. */
  replay(history: Iterable<EventRecord>): number {
    for (const e of history) applyWorkerEvent(this.state, e);
    return this.state.anomalies;
  }

  get workers(): ReadonlyMap<string, WorkerRecord> {
    return this.state.workers;
  }

  /** True once shutdown began: nothing more is recorded. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs a change under the one lock. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
  }

  /** A new worker id. Reserved at once: even if its `worker.queued` never lands, it is never handed out twice. */
  reserveId(): string {
    return `W${this.state.nextNumber++}`;
  }

  /** Appends events durably, then applies them. Call with the lock held. */
  async commit(inputs: EventInput[]): Promise<void> {
    // Once shutdown began the event log is closing: nothing more may be recorded (or applied).
    if (this.closedFlag) throw new CpwdError(ErrorCode.ShuttingDown, "the daemon is shutting down");
    // Refuse before writing: an event the machine would reject must never reach the log.
    this.preview(inputs);
    const written = await this.events.append(inputs);
    for (const e of written) applyWorkerEvent(this.state, e);
    for (const check of [...this.waiters]) check();
  }

  /**
   * The workers `inputs` name as the inputs would leave them (undefined: removed), nothing applied;
   * throws (TransitionError) on an event the state machine refuses. Only those workers: a copy of
   * the whole map cost every commit time in proportion to all the workers ever spawned.
   */
  preview(inputs: EventInput[]): Map<string, WorkerRecord | undefined> {
    const probe = new Map<string, WorkerRecord | undefined>();
    const ts = new Date(this.clock.now()).toISOString();
    for (const i of inputs) {
      const id = i.worker!;
      const before = probe.has(id) ? probe.get(id) : this.state.workers.get(id);
      probe.set(id, evolve(before, { ...i, seq: 0, ts, worker: id }) ?? undefined);
    }
    return probe;
  }

  /**
   * Resolves once a worker's record (undefined once removed) satisfies `holds`, now or after a
   * commit; rejects with InvalidState and `timeoutMessage` after `timeoutMs` on the clock.
   */
  waitFor(id: string, holds: (w: WorkerRecord | undefined) => boolean, timeoutMs: number, timeoutMessage: string): Promise<void> {
    if (holds(this.state.workers.get(id))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!holds(this.state.workers.get(id))) return;
        this.waiters.delete(check);
        this.clock.clearTimeout(timer);
        resolve();
      };
      const timer = this.clock.setTimeout(() => {
        this.waiters.delete(check);
        reject(new CpwdError(ErrorCode.InvalidState, timeoutMessage));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Refuses further commits from now on; resolves once the change in progress is done. */
  close(): Promise<void> {
    this.closedFlag = true;
    return this.lock.run(async () => {}).catch(() => {});
  }
}
