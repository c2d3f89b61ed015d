// Size-based rotation of running workers' logs. The worker writes through its own O_APPEND file
// descriptors (the daemon never sits in the pipe), so rotation is copytruncate-style (rotate-log-file.ts):
// the live file is copied into `.1`, `.2`… (pieces of at most the limit, shifting older ones), then
// truncated; the worker's next write lands at the new end. Bytes written between the copy and the
// truncate can be lost — the price of not piping output through the daemon, and the same trade
// logrotate's copytruncate makes.
//
// Each worker's folder is checked on a timer of its own whose delay adapts: a quiet worker is
// looked at every CHECK_MAX_MS (one stat per stream), a worker printing fast as often as needed
// to reach about half the limit between checks, down to CHECK_MIN_MS. No busy polling when idle.
import { statSync } from "node:fs";
import { join } from "node:path";
import { WORKER_FILES } from "../../src/records/worker-files.js";
import { rotateLog } from "./rotate-log-file.js";

/** The live log files of a worker's log folder (output.log: both streams, when the output mux runs). */
const STREAMS = [WORKER_FILES.stdout, WORKER_FILES.stderr, WORKER_FILES.output];
/** The slowest check, for workers that print little or nothing. */
export const CHECK_MAX_MS = 2_000;
/** The fastest check, for a worker printing at disk speed. */
export const CHECK_MIN_MS = 100;

/**
 * The delay before the next check of a folder, given the previous delay and how many bytes its
 * fastest stream grew by during it: enough time to write about half of `maxBytes` at that rate,
 * within [CHECK_MIN_MS, CHECK_MAX_MS]; doubling (up to the maximum) while nothing grows.
 */
export function nextCheckDelayMs(prevDelayMs: number, grewBytes: number, maxBytes: number): number {
  if (grewBytes <= 0) return Math.min(CHECK_MAX_MS, prevDelayMs * 2);
  const ms = (prevDelayMs * maxBytes) / (2 * grewBytes);
  return Math.round(Math.min(CHECK_MAX_MS, Math.max(CHECK_MIN_MS, ms)));
}

interface Watched {
  dir: string;
  delayMs: number;
  /** Each stream's size after the last check (0 after a rotation). */
  sizes: Map<string, number>;
  timer: NodeJS.Timeout | undefined;
  removed: boolean;
}

export class LogRotationScheduler {
  private readonly watched = new Map<string, Watched>();
  /** The check in progress per folder: checks of one folder never overlap, even across a restart. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly maxBytes: number,
    private readonly keep: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(id: string, logDir: string): void {
    this.stop(id);
    const w: Watched = { dir: logDir, delayMs: CHECK_MAX_MS, sizes: new Map(), timer: undefined, removed: false };
    this.watched.set(id, w);
    // A first look soon: an adopted worker may have grown while the daemon was down.
    this.arm(w, CHECK_MIN_MS);
  }

  /** Stops watching a worker that ended, after one last check (not awaited; see `idle`). */
  remove(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    this.stop(id);
    void this.check(w.dir, w.sizes);
  }

  /** Resolves once no check is in progress (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private stop(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    w.removed = true;
    clearTimeout(w.timer);
    this.watched.delete(id);
  }

  private arm(w: Watched, delayMs: number): void {
    w.delayMs = delayMs;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void this.check(w.dir, w.sizes).then((grew) => {
        if (!w.removed) this.arm(w, nextCheckDelayMs(w.delayMs, grew, this.maxBytes));
      });
    }, delayMs);
    w.timer.unref();
  }

  /** Checks (and rotates if needed) each stream of one folder; resolves with the largest growth. */
  check(dir: string, sizes = new Map<string, number>()): Promise<number> {
    let grew = 0;
    const run = async () => {
      for (const name of STREAMS) {
        const live = join(dir, name);
        try {
          // The common case, a file under the limit, is one stat, done synchronously: a few µs,
          // where the async path costs thread-pool trips and promises on every idle check.
          let size = statSync(live).size;
          if (size > this.maxBytes) size = await rotateLog(live, this.maxBytes, this.keep);
          grew = Math.max(grew, size - Math.min(size, sizes.get(name) ?? 0));
          sizes.set(name, size > this.maxBytes ? 0 : size);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.onError(err);
        }
      }
    };
    const next = (this.chains.get(dir) ?? Promise.resolve()).then(run);
    this.chains.set(dir, next);
    void next.finally(() => {
      if (this.chains.get(dir) === next) this.chains.delete(dir);
    });
    return next.then(() => grew);
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.stop(id);
  }
}
