// The queue and the concurrency limit: workers ready to start, in the order they became ready
// (FIFO), each recorded as `worker.starting` and launched while fewer than `maxParallel` run. A
// start gate (the daily Claude budget) may hold a worker back: it keeps its place, with the reason,
// and the others behind it go ahead; held workers are looked at again when the gate says.
import { ACTIVE_STATES } from "../../src/protocol/workers.js";
import type { WorkerRecord } from "../../src/workers/machine.js";
import type { Clock } from "../context.js";
import type { Ledger } from "./ledger.js";

/** What may hold a ready worker back. Asked at each scheduling; pure. */
export interface StartGate {
  /** Why `w` must wait before it starts, or null when it may start now. */
  holdReason(w: WorkerRecord, nowMs: number): string | null;
  /** When held workers are looked at again (absolute clock ms): the gate may have opened by then. */
  recheckAtMs(nowMs: number): number;
}

/** How soon a start the event log refused (a full disk) is tried again. */
const RETRY_MS = 1_000;

export class ReadyQueue {
  private ready: string[] = [];
  /** Workers the gate holds back, with its reason. */
  private readonly held = new Map<string, string>();
  private recheckTimer: unknown;
  private retryTimer: unknown;

  constructor(
    private readonly ledger: Ledger,
    private readonly maxParallel: number,
    /** Launches a worker recorded as starting (not awaited: it records its own start). */
    private readonly launch: (id: string) => void,
    /** Runs a change nobody awaits, reporting its failure. */
    private readonly background: (what: string, fn: () => Promise<void>) => void,
    private readonly clock: Clock,
    private readonly gate?: StartGate,
  ) {}

  /** Replaces the queue (at start, with the queued workers of the replayed log, oldest first). */
  reset(ids: string[]): void {
    this.ready = ids;
    this.held.clear();
  }

  /** Why a ready worker is held back, if it is. */
  holdReason(id: string): string | undefined {
    return this.held.get(id);
  }

  push(id: string): void {
    this.ready.push(id);
  }

  /** Starts ready workers while slots are free, under the lock, in the background. */
  schedule(): void {
    if (this.ledger.closed) return;
    this.background("scheduling", () =>
      this.ledger.locked(async () => {
        const nowMs = this.clock.now();
        const holding: string[] = [];
        try {
          while (this.ready.length > 0 && this.activeCount() < this.maxParallel) {
            const id = this.ready.shift()!;
            this.held.delete(id);
            const w = this.ledger.workers.get(id);
            // Stopped, removed or started some other way since it was queued: nothing to do.
            if (!w || (w.state !== "queued" && w.state !== "backoff")) continue;
            const why = this.gate?.holdReason(w, nowMs) ?? null;
            if (why !== null) {
              this.held.set(id, why);
              holding.push(id);
              continue;
            }
            try {
              await this.ledger.commit([{ type: "worker.starting", worker: id, payload: { attempt: w.attempt } }]);
            } catch (err) {
              // Not recorded (the event log cannot be written: a full disk): the worker keeps its
              // place and the queue is tried again shortly, so it starts once the log takes it.
              this.ready.unshift(id);
              this.armRetry();
              throw err;
            }
            this.launch(id);
          }
        } finally {
          // Held workers keep their places at the head of the queue.
          this.ready.unshift(...holding);
          this.armRecheck(nowMs);
        }
      }),
    );
  }

  /** Daemon shutdown: the recheck and retry timers stop. */
  close(): void {
    this.stopRecheck();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private stopRecheck(): void {
    if (this.recheckTimer !== undefined) this.clock.clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
  }

  /** One timer schedules again after a start the event log refused. */
  private armRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, RETRY_MS);
  }

  /** While the gate holds workers, one timer schedules again when it says it may open. */
  private armRecheck(nowMs: number): void {
    if (this.held.size === 0 || !this.gate) return this.stopRecheck();
    if (this.recheckTimer !== undefined) return;
    this.recheckTimer = this.clock.setTimeout(() => {
      this.recheckTimer = undefined;
      this.schedule();
    }, Math.max(0, this.gate.recheckAtMs(nowMs) - nowMs));
  }

  private activeCount(): number {
    let n = 0;
    for (const w of this.ledger.workers.values()) if (ACTIVE_STATES.has(w.state)) n++;
    return n;
  }
}
