// Each Claude worker's runs, from its `worker.claude` records (replayed and live): which run is the
// current one and where its stream begins in stdout.log (which holds every run's output, one after
// the other), and what each run cost and when — the worker's total, and today's spend against
// the daily budget. Pure: fed payloads with their times.

/** The current run of a worker: its number (1 for the first) and where its output begins. */
export interface RunFacts {
  run: number;
  /** Byte offset in stdout.log where this run's output begins. */
  logOffset: number;
}

const count = (v: unknown, min: number): number | null => (typeof v === "number" && Number.isInteger(v) && v >= min ? v : null);

export class ClaudeRuns {
  private readonly currentRun = new Map<string, RunFacts>();
  /** Each run's cost as last reported and when, keyed `W3#2`. */
  private readonly costs = new Map<string, { worker: string; costUsd: number; atMs: number }>();

  /** Takes one `worker.claude` payload, recorded at `atMs`. Records without `run` (older) are run 1. */
  observe(worker: string, payload: Record<string, unknown>, atMs: number): void {
    const run = count(payload.run, 1) ?? 1;
    const known = this.currentRun.get(worker);
    if (!known || run >= known.run) {
      const offset = count(payload.logOffset, 0) ?? (known?.run === run ? known.logOffset : 0);
      this.currentRun.set(worker, { run, logOffset: offset });
    }
    if (typeof payload.costUsd === "number" && Number.isFinite(payload.costUsd)) {
      this.costs.set(`${worker}#${run}`, { worker, costUsd: payload.costUsd, atMs });
    }
  }

  /** The worker's current (latest) run, if it has one on record. */
  current(worker: string): RunFacts | undefined {
    return this.currentRun.get(worker);
  }

  /** The number the worker's next run gets. */
  nextRun(worker: string): number {
    return (this.currentRun.get(worker)?.run ?? 0) + 1;
  }

  /** What all the worker's runs cost together; null before any reported a cost. */
  totalUsd(worker: string): number | null {
    let total: number | null = null;
    for (const c of this.costs.values()) if (c.worker === worker) total = (total ?? 0) + c.costUsd;
    return total;
  }

  /** What every run reported since `sinceMs` cost (a run counts at the time of its latest report). */
  spentSince(sinceMs: number): number {
    let total = 0;
    for (const c of this.costs.values()) if (c.atMs >= sinceMs) total += c.costUsd;
    return total;
  }
}
