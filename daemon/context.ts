// What the daemon's parts share: paths, config, the operational log, the event log's append and
// the clock. Built once in main.ts and passed down; nothing here reads globals.
import type { Logger } from "pino";
import type { Config } from "../src/platform/config.js";
import type { CpwdPaths } from "../src/platform/paths.js";
import type { EventInput, EventRecord } from "../src/protocol/events.js";
import type { SecretMask } from "../src/protocol/secret-mask.js";

/** Appends events durably (group commit): resolves with the written records once fdatasync'd. */
export interface EventAppender {
  append(inputs: EventInput[]): Promise<EventRecord[]>;
}

/** Time, injectable so the pure parts and their shells can be tested with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers never keep the daemon alive on their own: the server and watchers do.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface DaemonContext {
  paths: CpwdPaths;
  config: Config;
  log: Logger;
  events: EventAppender;
  clock: Clock;
  version: string;
  /** Secret-looking environment values kept out of the record and every RPC result; workers' are added as they are spawned. */
  secrets?: SecretMask;
}
