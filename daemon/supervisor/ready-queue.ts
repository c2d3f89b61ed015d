// The queue and the concurrency limit: workers ready to start, in the order they became ready
// (FIFO), each recorded as `worker.starting` and launched while fewer than `maxParallel` run.
import { ACTIVE_STATES } from "../../src/protocol/workers.js";
import type { Ledger } from "./ledger.js";

export class ReadyQueue {
  private ready: string[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly maxParallel: number,
    /** Launches a worker recorded as starting (not awaited: it records its own start). */
    private readonly launch: (id: string) => void,
    /** Runs a change nobody awaits, reporting its failure. */
    private readonly background: (what: string, fn: () => Promise<void>) => void,
  ) {}

  /** Replaces the queue (at start, with the queued workers of the replayed log, oldest first). */
  reset(ids: string[]): void {
    this.ready = ids;
  }

  push(id: string): void {
    this.ready.push(id);
  }

  /** Starts ready workers while slots are free, under the lock, in the background. */
  schedule(): void {
    if (this.ledger.closed) return;
    this.background("scheduling", () =>
      this.ledger.locked(async () => {
        while (this.ready.length > 0 && this.activeCount() < this.maxParallel) {
          const id = this.ready.shift()!;
          const w = this.ledger.workers.get(id);
          // Stopped, removed or started some other way since it was queued: nothing to do.
          if (!w || (w.state !== "queued" && w.state !== "backoff")) continue;
          await this.ledger.commit([{ type: "worker.starting", worker: id, payload: { attempt: w.attempt } }]);
          this.launch(id);
        }
      }),
    );
  }

  private activeCount(): number {
    let n = 0;
    for (const w of this.ledger.workers.values()) if (ACTIVE_STATES.has(w.state)) n++;
    return n;
  }
}
