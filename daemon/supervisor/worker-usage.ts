// CPU % and RSS of running workers' process trees, added to their views when `status` or
// `worker.get` asks: one /proc snapshot per call whatever the number of workers (and one per
// quarter second whatever the number of callers), nothing sampled while nobody asks. CPU % needs
// two readings of a tree: each worker keeps its last few, and a call measures against the newest
// that is at least a second old — a smooth figure for `status --watch`, which asks a few times a
// second — or, with none younger than a minute, against the run's start, as `ps` does.
import { ACTIVE_STATES, type ProcessUsage, type WorkerView } from "../../src/protocol/workers.js";
import { cpuPercent, readProcSnapshot, treeUsage, type ProcSnapshot } from "../../src/platform/process-tree.js";

/** A snapshot younger than this is reused by the next call. */
const SNAPSHOT_REUSE_MS = 250;
/** CPU % is measured over at least this long when a reading that old is kept. */
const MIN_WINDOW_MS = 1_000;
/** Readings older than this are forgotten. */
const MAX_WINDOW_MS = 60_000;

interface Reading {
  atMs: number;
  cpuTicks: number;
}

/** One worker's recent readings, for the run of `pid`. */
interface TreeHistory {
  pid: number;
  readings: Reading[];
}

export interface WorkerUsageOptions {
  /** Reads every process; null where that cannot be done. @default readProcSnapshot */
  read?: () => ProcSnapshot | null;
}

export class WorkerUsage {
  private readonly read: () => ProcSnapshot | null;
  private readonly history = new Map<string, TreeHistory>();
  private last: ProcSnapshot | null = null;

  constructor(opts: WorkerUsageOptions = {}) {
    this.read = opts.read ?? (() => readProcSnapshot());
  }

  /** The views with `usage` set: measured for a worker whose process runs, else null. */
  annotate(views: WorkerView[]): WorkerView[] {
    const runs = (v: WorkerView) => v.pid !== null && ACTIVE_STATES.has(v.state);
    const snap = views.some(runs) ? this.snapshot() : null;
    if (snap) this.forgetOld(snap.atMs);
    return views.map((v) => ({ ...v, usage: snap && runs(v) ? this.measure(v, snap) : null }));
  }

  private snapshot(): ProcSnapshot | null {
    if (this.last && Date.now() - this.last.atMs < SNAPSHOT_REUSE_MS) return this.last;
    this.last = this.read();
    return this.last;
  }

  private measure(v: WorkerView, snap: ProcSnapshot): ProcessUsage | null {
    const tree = treeUsage(snap, v.pid!);
    if (!tree) return null;
    let h = this.history.get(v.id);
    if (!h || h.pid !== v.pid) this.history.set(v.id, (h = { pid: v.pid!, readings: [] }));
    const now: Reading = { atMs: snap.atMs, cpuTicks: tree.cpuTicks };
    const base = baseline(h.readings, snap.atMs);
    // The first reading of a run: its whole life so far (its ticks since it started).
    const startedAtMs = v.startedAt === null ? null : Date.parse(v.startedAt);
    const from = base ?? (startedAtMs === null ? null : { atMs: startedAtMs, cpuTicks: 0 });
    if (h.readings.at(-1)?.atMs !== now.atMs) h.readings.push(now);
    // Keep the baseline chosen and what came after it: the next call's baseline is among them.
    if (base) h.readings = h.readings.filter((r) => r.atMs >= base.atMs);
    return { cpuPercent: from ? cpuPercent(from, now, snap.ticksPerSecond) : null, rssBytes: tree.rssBytes, processes: tree.pids.length };
  }

  private forgetOld(nowMs: number): void {
    for (const [id, h] of this.history) {
      h.readings = h.readings.filter((r) => nowMs - r.atMs <= MAX_WINDOW_MS);
      if (h.readings.length === 0) this.history.delete(id);
    }
  }
}

/** The newest reading at least MIN_WINDOW_MS old, else the oldest one older than now; null if none. */
function baseline(readings: Reading[], nowMs: number): Reading | null {
  let pick: Reading | null = null;
  for (const r of readings) {
    if (r.atMs >= nowMs) break;
    if (pick === null || nowMs - r.atMs >= MIN_WINDOW_MS) pick = r;
  }
  return pick;
}
