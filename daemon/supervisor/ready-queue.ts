// The queue and the concurrency limit: workers ready to start, in the order they became ready
// (FIFO), each launched while fewer than `maxParallel` run or are being launched (the launch
// records its own start: Supervisor.launch). A start gate (the daily Claude budget) may hold a
// worker back: it keeps its place, with the reason, and the others behind it go ahead; held
// workers are looked at again when the gate says.
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

export class ReadyQueue {
  private ready: string[] = [];
  /** Workers the gate holds back, with its reason. */
  private readonly held = new Map<string, string>();
  private recheckTimer: unknown;
  /** Launched and not yet recorded as started (or as failed): they hold a slot. */
  private readonly launching = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly maxParallel: number,
    /** Launches a ready worker and records its start; settles once that is done or has failed. */
    private readonly launch: (id: string) => Promise<void>,
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

  /**
   * Takes a slot for a worker being queued now, before its `worker.queued` is durable, if it would be
   * launched at once anyway: nothing waits before it, a slot is free, the gate lets it through. The
   * caller launches it and calls `release` once the launch is recorded or has failed. Under the lock.
   */
  claimNow(w: WorkerRecord): boolean {
    if (this.ledger.closed || this.ready.length > 0 || this.activeCount() >= this.maxParallel) return false;
    if ((this.gate?.holdReason(w, this.clock.now()) ?? null) !== null) return false;
    this.launching.add(w.id);
    return true;
  }

  /** Frees the slot `claimNow` took. */
  release(id: string): void {
    this.launching.delete(id);
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
            // Stopped, removed, started some other way or being launched since it was queued: nothing to do.
            if (!w || (w.state !== "queued" && w.state !== "backoff") || this.launching.has(id)) continue;
            const why = this.gate?.holdReason(w, nowMs) ?? null;
            if (why !== null) {
              this.held.set(id, why);
              holding.push(id);
              continue;
            }
            this.launching.add(id);
            void this.launch(id).finally(() => this.launching.delete(id));
          }
        } finally {
          // Held workers keep their places at the head of the queue.
          this.ready.unshift(...holding);
          this.armRecheck(nowMs);
        }
      }),
    );
  }

  /** Daemon shutdown: the recheck timer stops. */
  close(): void {
    this.stopRecheck();
  }

  private stopRecheck(): void {
    if (this.recheckTimer !== undefined) this.clock.clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
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
    // A launch recorded already counts among the active; one still unrecorded holds a slot too.
    for (const id of this.launching) if (!ACTIVE_STATES.has(this.ledger.workers.get(id)?.state ?? "queued")) n++;
    return n;
  }
}
