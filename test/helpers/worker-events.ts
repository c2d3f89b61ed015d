// Worker event records and a spec, for the tests of the pure workers model (machine, replay).
import type { EventRecord } from "../../src/protocol/events.js";

let seq = 0;

/** An event as the daemon records it, with the next seq of this test process. */
export function workerEvent(type: string, payload: Record<string, unknown> = {}, worker = "W1", tsMs = 1_000_000): EventRecord {
  return { v: 1, seq: ++seq, ts: new Date(tsMs).toISOString(), type, source: "daemon", worker, payload };
}

/** A spec as worker.queued carries it: never restarted, a 100 ms grace. */
export const workerSpec = { argv: ["x"], cwd: "/", name: "n", timeoutMs: null, graceMs: 100, restart: { mode: "never", maxRestarts: 5, windowMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 100, minUptimeMs: 1_000 }, meta: {} };
