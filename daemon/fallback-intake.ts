// Takes the fallback log (what shims wrote while the daemon was down or slow) into the event log:
// once at start, then whenever a shim appends to it, one ingest at a time; and keeps it bounded.
//
// Bounding, and why the seen ids may then go. `rotateDelayMs` after an ingest first passes
// `rotateBytes` (a delay, not a wait for quiet: a steady trickle of appends must not put it off
// for ever), the log is renamed aside to `<log>.draining.<n>` (its offset with it);
// shims append to a fresh log from then on. A shim that opened the old one just before the rename
// holds that descriptor for one write() only (src/eventlog/fallback.ts takes no lock), so after
// `graceMs` past the rename (the file's ctime) nothing more can land in it: it is read to its very
// end, torn last line included, and deleted. A daemon killed anywhere in this finds the draining
// files at its next ingest and drains them first, before the live log is read.
//
// A record can only come again from a file still on disk. So the seen set must hold the ids read
// from files still present, and no more: all the draining files are drained and deleted in one
// step of the chain, with no read of the live log in between (which, after the rename, has not
// been read at all); after that step no id in the set came from a file still present, and the set
// is emptied. A `fallback.ingested` event with `drained` says so in the record: the snapshot's
// fold (daemon/state-snapshot.ts) empties its `fallbackIds` there too, so a daemon started later
// rebuilds only the ids read since the last drain. Killed after the deletion and before that event,
// a daemon keeps the old ids until the next drain empties them: more than needed, never fewer.
// The set and the files are thus bounded by about `rotateBytes` of records (plus what arrives
// during one drain), not by history.
import { statSync, watch, type FSWatcher } from "node:fs";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { EventLog } from "../src/eventlog/append.js";
import { drainingFiles, ingestFallback, removeDrained, rotateFallback, type IngestResult } from "../src/eventlog/ingest.js";
import type { CpwdPaths } from "../src/platform/paths.js";

/** How long the fallback log must stay quiet before an ingest: a burst of appends costs one. */
const DEBOUNCE_MS = 20;

export interface FallbackIntakeDeps {
  paths: CpwdPaths;
  log: EventLog;
  /** The fids of fallback records already in the event log (filled by the startup scan). */
  seen: Set<string>;
  logger: Logger;
  /** Size past which an ingested fallback log is renamed aside and drained. @default 1 MiB */
  rotateBytes?: number;
  /** How long after a rename a draining file is read to its end: longer than a shim's one write. @default 2000 */
  graceMs?: number;
  /** How long after an ingest first passes `rotateBytes` the log is renamed aside. @default 2000 */
  rotateDelayMs?: number;
}

/** The fallback log's intake: `ingest()` at start, `watch()` once serving, `close()` on shutdown. */
export class FallbackIntake {
  /** Ingests run one after another: two at once would read the same lines past the same offset. */
  private chain: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  /** Aborts a drain's grace on close: the draining files are drained at the next start instead. */
  private readonly closing = new AbortController();
  private readonly rotateBytes: number;
  private readonly graceMs: number;
  private readonly rotateDelayMs: number;

  constructor(private readonly deps: FallbackIntakeDeps) {
    this.rotateBytes = deps.rotateBytes ?? 1024 * 1024;
    this.graceMs = deps.graceMs ?? 2_000;
    this.rotateDelayMs = deps.rotateDelayMs ?? 2_000;
  }

  /** Ingests what the fallback log holds, after any ingest under way. Never rejects. */
  ingest(): Promise<void> {
    this.chain = this.chain.then(() => this.ingestOnce());
    return this.chain;
  }

  private async ingestOnce(): Promise<void> {
    const { paths, log, seen, logger } = this.deps;
    try {
      // Draining files left by a daemon killed mid-drain go first: the live log must not be read
      // before the seen set is emptied (see the top of this file).
      if (!(await this.drainAll())) return;
      const r = await ingestFallback(paths.fallback, `${paths.fallback}.offset`, paths.quarantine, seen, (inputs) => log.append(inputs));
      if (r.count > 0 || r.badLines > 0) {
        const { count, skippedDuplicates, badLines, quarantined } = r;
        await log.append([{ type: "fallback.ingested", payload: { count, skippedDuplicates, badLines, quarantined } }]);
        logger.info(r, "fallback log ingested");
      }
      if (r.offsetBytes >= this.rotateBytes && this.rotateTimer === undefined && !this.closing.signal.aborted) {
        this.rotateTimer = setTimeout(() => {
          this.rotateTimer = undefined;
          this.chain = this.chain.then(() => this.rotateOnce());
        }, this.rotateDelayMs);
        this.rotateTimer.unref();
      }
    } catch (err) {
      logger.error({ err }, "fallback ingest failed; will retry when the file changes");
    }
  }

  /** Renames the live log aside and drains it (after what a shim appended meanwhile). */
  private async rotateOnce(): Promise<void> {
    const { paths, logger } = this.deps;
    if (this.closing.signal.aborted) return;
    try {
      if (this.liveBytes() < this.rotateBytes) return;
      const draining = rotateFallback(paths.fallback, `${paths.fallback}.offset`);
      logger.info({ draining }, "fallback log renamed aside to drain");
      await this.drainAll();
    } catch (err) {
      logger.error({ err }, "fallback rotation failed; its draining file is drained at the next ingest");
    }
  }

  /** The live fallback log's size (0 when there is none). */
  private liveBytes(): number {
    try {
      return statSync(this.deps.paths.fallback).size;
    } catch {
      return 0;
    }
  }

  /**
   * Reads every draining file to its end once its grace is over, deletes it, then empties the seen
   * set and records that. False when closing cut a grace short (the rest waits for the next start).
   */
  private async drainAll(): Promise<boolean> {
    const { paths, log, seen, logger } = this.deps;
    const files = drainingFiles(paths.fallback);
    if (files.length === 0) return true;
    const total = { count: 0, skippedDuplicates: 0, badLines: 0, quarantined: 0 };
    for (const file of files) {
      const stat = statSync(file);
      const waitMs = Math.max(stat.ctimeMs, stat.mtimeMs) + this.graceMs - Date.now();
      if (waitMs > 0) {
        try {
          await sleep(Math.min(waitMs, this.graceMs), undefined, { signal: this.closing.signal });
        } catch {
          return false;
        }
      }
      const r: IngestResult = await ingestFallback(file, `${file}.offset`, paths.quarantine, seen, (inputs) => log.append(inputs), { final: true });
      for (const k of ["count", "skippedDuplicates", "badLines", "quarantined"] as const) total[k] += r[k];
      removeDrained(file);
    }
    seen.clear();
    await log.append([{ type: "fallback.ingested", payload: { ...total, drained: files.length } }]);
    logger.info({ ...total, drained: files.length }, "fallback draining files ingested and deleted");
    return true;
  }

  /** Ingests whenever a shim appends to the fallback log (inotify/FSEvents: no polling). */
  watch(): void {
    const { paths, logger } = this.deps;
    try {
      this.watcher = watch(paths.home, (_event, name) => {
        if (name !== basename(paths.fallback)) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.ingest(), DEBOUNCE_MS);
      });
      this.watcher.on("error", (err) => logger.warn({ err }, "fallback watcher failed"));
    } catch (err) {
      logger.warn({ err }, "cannot watch the home folder; fallback ingested at start only");
    }
    // A shim that found the daemon not yet listening appends between the start-up ingest and this
    // watch: no change event will ever report that line. Look once more now that changes are seen.
    void this.ingest();
  }

  /** Stops watching at once; resolves when the ingest under way, if any, has ended. */
  close(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.debounce);
    clearTimeout(this.rotateTimer);
    this.closing.abort();
    return this.chain;
  }
}
