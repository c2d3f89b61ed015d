// What `cpwd ui` shows, folded from the record alone: the worker table (the same replay the daemon
// and `cpwd replay` use), each worker's runs and restarts on a timeline, and the latest events.
// Pure: events in, the changes to send out.
import type { EventRecord } from "../../src/protocol/events.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import { isTransition } from "../../src/workers/machine.js";
import { applyWorkerEvent, emptyWorkersState } from "../../src/workers/replay.js";
import { toView } from "../../src/workers/view.js";

/** One run of a worker: from its start to its end (null while it runs). */
export interface RunSpan {
  startedAtMs: number;
  endedAtMs: number | null;
  /** `running`, or how it ended: exited, failed, timed_out, stopped. */
  state: string;
  exitCode: number | null;
  signal: string | null;
}

/** Something that happened to a worker between runs. */
export interface Mark {
  atMs: number;
  kind: "queued" | "stop" | "backoff" | "fatal" | "cancelled";
  text: string;
}

/** A worker's runs and marks, oldest first (at most MAX_SPANS of each). */
export interface Timeline {
  id: string;
  name: string | null;
  runs: RunSpan[];
  marks: Mark[];
}

/** What changed with a batch of events. */
export interface Delta {
  lastSeq: number;
  events: EventRecord[];
  workers: WorkerView[];
  timelines: Timeline[];
  /** Workers removed (`cpwd rm`). */
  removed: string[];
}

/** Everything a page needs to start from. */
export interface Snapshot {
  lastSeq: number;
  events: EventRecord[];
  workers: WorkerView[];
  timelines: Timeline[];
}

const MAX_SPANS = 100;

export interface LiveModelOptions {
  /** Latest events kept for a new page. @default 300 */
  recentEvents?: number;
  now?: () => number;
}

/** The folded state; `apply` each batch in seq order. */
export class LiveModel {
  private readonly workers = emptyWorkersState();
  private readonly timelines = new Map<string, Timeline>();
  private recent: EventRecord[] = [];
  private readonly keep: number;
  private readonly now: () => number;

  constructor(opts: LiveModelOptions = {}) {
    this.keep = opts.recentEvents ?? 300;
    this.now = opts.now ?? Date.now;
  }

  get lastSeq(): number {
    return this.workers.lastSeq;
  }

  /** Folds a batch in; returns what changed. */
  apply(events: EventRecord[]): Delta {
    const touched = new Set<string>();
    const fresh = events.filter((e) => e.seq > this.workers.lastSeq); // a batch seen already is passed over
    for (const e of fresh) {
      applyWorkerEvent(this.workers, e);
      if (e.worker && e.type.startsWith("worker.")) {
        this.noteOnTimeline(e);
        if (isTransition(e.type)) touched.add(e.worker);
      }
    }
    for (const e of fresh.slice(-this.keep)) this.recent.push(e);
    if (this.recent.length > this.keep * 2) this.recent = this.recent.slice(-this.keep);
    const now = this.now();
    const delta: Delta = { lastSeq: this.lastSeq, events: fresh.slice(-this.keep), workers: [], timelines: [], removed: [] };
    for (const id of touched) {
      const w = this.workers.workers.get(id);
      if (!w) {
        delta.removed.push(id);
        continue;
      }
      delta.workers.push(toView(w, now));
      const t = this.timelines.get(id);
      if (t) delta.timelines.push(t);
    }
    return delta;
  }

  snapshot(): Snapshot {
    const now = this.now();
    const byNumber = (a: { id: string }, b: { id: string }) => Number(a.id.slice(1)) - Number(b.id.slice(1));
    return {
      lastSeq: this.lastSeq,
      events: this.recent.slice(-this.keep),
      workers: [...this.workers.workers.values()].map((w) => toView(w, now)).sort(byNumber),
      timelines: [...this.timelines.values()].sort(byNumber),
    };
  }

  private noteOnTimeline(e: EventRecord): void {
    const id = e.worker!;
    const atMs = Date.parse(e.ts);
    const p = e.payload;
    if (e.type === "worker.removed") {
      this.timelines.delete(id);
      return;
    }
    let t = this.timelines.get(id);
    if (!t) {
      if (e.type !== "worker.queued") return; // a worker whose start is not in the record
      t = { id, name: null, runs: [], marks: [] };
      this.timelines.set(id, t);
    }
    const mark = (kind: Mark["kind"], text: string) => push(t.marks, { atMs, kind, text });
    switch (e.type) {
      case "worker.queued": {
        const spec = p.spec as { name?: unknown } | undefined;
        if (typeof spec?.name === "string") t.name = spec.name;
        if (t.runs.length > 0) mark("queued", "queued again");
        break;
      }
      case "worker.started":
        push(t.runs, { startedAtMs: typeof p.startedAtMs === "number" ? p.startedAtMs : atMs, endedAtMs: null, state: "running", exitCode: null, signal: null });
        break;
      case "worker.exited": {
        const endedAtMs = typeof p.endedAtMs === "number" ? p.endedAtMs : atMs;
        const open = t.runs.at(-1);
        const run = open && open.endedAtMs === null ? open : push(t.runs, { startedAtMs: endedAtMs, endedAtMs: null, state: "running", exitCode: null, signal: null });
        run.endedAtMs = endedAtMs;
        run.state = typeof p.state === "string" ? p.state : "exited";
        run.exitCode = typeof p.code === "number" ? p.code : null;
        run.signal = typeof p.signal === "string" ? p.signal : null;
        break;
      }
      case "worker.stopping":
        mark("stop", typeof p.reason === "string" ? `stop: ${p.reason}` : "stop");
        break;
      case "worker.backoff":
        mark("backoff", `restart in ${Math.round(Number(p.delayMs) / 100) / 10} s`);
        break;
      case "worker.fatal":
        mark("fatal", `fatal: ${String(p.reason)}`);
        break;
      case "worker.cancelled":
        mark("cancelled", `cancelled: ${String(p.reason)}`);
        break;
    }
  }
}

/** Appends, dropping the oldest past MAX_SPANS; returns the item. */
function push<T>(list: T[], item: T): T {
  list.push(item);
  if (list.length > MAX_SPANS) list.splice(0, list.length - MAX_SPANS);
  return item;
}
