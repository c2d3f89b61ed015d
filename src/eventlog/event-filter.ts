// Which events a reader wants: a type (exact, or a prefix ending in '.'), a worker id, a session.
// Shared by the daemon's subscriptions and the CLI reading the record on disk.
import type { EventRecord } from "../protocol/events.js";
import { typeMatches } from "./read.js";

/** Every field given must match; an empty filter takes every event. */
export interface EventFilter {
  /** An exact type, or a prefix when it ends in "." (`worker.`). */
  type?: string | undefined;
  /** A worker id (`W3`). */
  worker?: string | undefined;
  /** A Claude Code session id. */
  session?: string | undefined;
}

/** Does `e` pass the filter? */
export function eventMatches(e: EventRecord, f: EventFilter): boolean {
  return typeMatches(e.type, f.type) && (f.worker === undefined || e.worker === f.worker) && (f.session === undefined || e.session === f.session);
}
