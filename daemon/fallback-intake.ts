// Takes the fallback log (what shims wrote while the daemon was down or slow) into the event log:
// once at start, then whenever a shim appends to it, one ingest at a time.
import { watch, type FSWatcher } from "node:fs";
import { basename } from "node:path";
import type { Logger } from "pino";
import type { EventLog } from "../src/eventlog/append.js";
import { ingestFallback } from "../src/eventlog/ingest.js";
import type { CpwdPaths } from "../src/platform/paths.js";

/** How long the fallback log must stay quiet before an ingest: a burst of appends costs one. */
const DEBOUNCE_MS = 20;

export interface FallbackIntakeDeps {
  paths: CpwdPaths;
  log: EventLog;
  /** The fids of fallback records already in the event log (filled by the startup scan). */
  seen: Set<string>;
  logger: Logger;
}

/** The fallback log's intake: `ingest()` at start, `watch()` once serving, `close()` on shutdown. */
export class FallbackIntake {
  /** Ingests run one after another: two at once would read the same lines past the same offset. */
  private chain: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FallbackIntakeDeps) {}

  /** Ingests what the fallback log holds, after any ingest under way. Never rejects. */
  ingest(): Promise<void> {
    this.chain = this.chain.then(() => this.ingestOnce());
    return this.chain;
  }

  private async ingestOnce(): Promise<void> {
    const { paths, log, seen, logger } = this.deps;
    try {
      const r = await ingestFallback(paths.fallback, `${paths.fallback}.offset`, paths.quarantine, seen, (inputs) => log.append(inputs));
      if (r.count > 0 || r.badLines > 0) {
        const { count, skippedDuplicates, badLines, quarantined } = r;
        await log.append([{ type: "fallback.ingested", payload: { count, skippedDuplicates, badLines, quarantined } }]);
        logger.info(r, "fallback log ingested");
      }
    } catch (err) {
      logger.error({ err }, "fallback ingest failed; will retry when the file changes");
    }
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
    return this.chain;
  }
}
