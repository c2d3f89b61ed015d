// Payload schemas of the daemon's own events: started, stopped, log recovered, fallback ingested.
import { z } from "zod";

export const DaemonStarted = z.object({
  pid: z.number().int(),
  version: z.string(),
  recoveredSeq: z.number().int().nonnegative(),
  socket: z.string(),
});

export const DaemonStopped = z.object({
  reason: z.string(),
  pid: z.number().int(),
});

export const LogRecovered = z.object({
  /** Bytes cut from the end of events.jsonl. */
  truncatedBytes: z.number().int().nonnegative(),
  /** Complete lines that did not parse and were cut with the tail. */
  badLines: z.number().int().nonnegative(),
  quarantine: z.string(),
  lastSeq: z.number().int().nonnegative(),
});

export const FallbackIngested = z.object({
  count: z.number().int().nonnegative(),
  skippedDuplicates: z.number().int().nonnegative(),
  badLines: z.number().int().nonnegative(),
  /** Lines set aside whole in the quarantine file (each also recorded as fallback.rejected). */
  quarantined: z.number().int().nonnegative().optional(),
  /**
   * How many renamed-aside fallback files were drained and deleted: none of their ids can come
   * again, so the set of ingested ids is emptied here (daemon/fallback-intake.ts).
   */
  drained: z.number().int().nonnegative().optional(),
});

export const daemonEventPayloads = {
  "daemon.started": DaemonStarted,
  "daemon.stopped": DaemonStopped,
  "log.recovered": LogRecovered,
  "fallback.ingested": FallbackIngested,
};
