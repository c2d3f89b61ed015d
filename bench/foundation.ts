// Foundation figures: `cpwd status` against `node -e 0`, ping latency and throughput, and durable
// event appends per second under group commit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventLog } from "../src/eventlog/append.js";
import { SeqIndex } from "../src/eventlog/seq-index.js";
import { CLI, cleanup, startDaemon, testEnv } from "../test/helpers/daemon.js";
import { percentile, timeInterleaved, type Row } from "./lib.js";

export async function benchFoundation(): Promise<Row[]> {
  const rows: Row[] = [];
  const d = await startDaemon();
  try {
    const env = testEnv(d.home, { CPWD_LOG_LEVEL: "warn" });
    const t = timeInterleaved(
      {
        baseline: { argv: [process.execPath, "-e", "0"] },
        status: { argv: [process.execPath, CLI, "status"], env },
        statusJson: { argv: [process.execPath, CLI, "status", "--json"], env },
      },
      15,
    );
    rows.push({ name: "node -e 0 (baseline)", value: t.baseline!, unit: "ms", note: "median of 15" });
    rows.push({ name: "cpwd status", value: t.status!, unit: "ms", note: `${(t.status! / t.baseline!).toFixed(2)}× node -e 0 (target ≤ 1.5×)` });
    rows.push({ name: "cpwd status --json", value: t.statusJson!, unit: "ms", note: `${(t.statusJson! / t.baseline!).toFixed(2)}× node -e 0` });

    // Ping round trip on one connection, one at a time.
    const c = await d.client();
    for (let i = 0; i < 200; i++) await c.call("ping");
    const lat: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const t0 = process.hrtime.bigint();
      await c.call("ping");
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    c.close();
    lat.sort((a, b) => a - b);
    rows.push({ name: "ping p50 (1 connection)", value: percentile(lat, 50), unit: "ms", note: "target ≤ 0.2 ms" });
    rows.push({ name: "ping p99 (1 connection)", value: percentile(lat, 99), unit: "ms" });

    // Throughput: 8 connections, each with sequential pings, for a fixed time.
    const clients = await Promise.all(Array.from({ length: 8 }, () => d.client()));
    const durationMs = 2000;
    const end = Date.now() + durationMs;
    const counts = await Promise.all(
      clients.map(async (cl) => {
        let n = 0;
        while (Date.now() < end) {
          await cl.call("ping");
          n++;
        }
        return n;
      }),
    );
    for (const cl of clients) cl.close();
    rows.push({ name: "ping calls/s (8 connections)", value: Math.round(counts.reduce((a, b) => a + b, 0) / (durationMs / 1000)), unit: "calls/s" });

    // Durable appends over RPC: 64 producers, each waiting for its ack before the next append.
    const producers = await Promise.all(Array.from({ length: 64 }, () => d.client()));
    const rpcEnd = Date.now() + durationMs;
    const rpcCounts = await Promise.all(
      producers.map(async (cl) => {
        let n = 0;
        while (Date.now() < rpcEnd) {
          await cl.call("events.append", { type: "ext.bench", payload: { n } });
          n++;
        }
        return n;
      }),
    );
    for (const cl of producers) cl.close();
    rows.push({ name: "durable events/s via RPC (64 producers)", value: Math.round(rpcCounts.reduce((a, b) => a + b, 0) / (durationMs / 1000)), unit: "events/s" });
  } finally {
    await cleanup(d);
  }

  // The event log alone: 64 concurrent producers, fdatasync on every group commit.
  const dir = mkdtempSync(join(tmpdir(), "cpwd-bench-log-"));
  try {
    const log = await EventLog.open(join(dir, "events.jsonl"), { lastSeq: 0, eventCount: 0, sizeBytes: 0, index: new SeqIndex() });
    const durationMs = 2000;
    const end = Date.now() + durationMs;
    const t0 = Date.now();
    const counts = await Promise.all(
      Array.from({ length: 64 }, async (_, p) => {
        let n = 0;
        while (Date.now() < end) {
          await log.append([{ type: "ext.bench", payload: { p, n } }]);
          n++;
        }
        return n;
      }),
    );
    const elapsed = (Date.now() - t0) / 1000;
    const total = counts.reduce((a, b) => a + b, 0);
    const stats = log.stats();
    await log.close();
    rows.push({
      name: "durable events/s, event log (64 producers)",
      value: Math.round(total / elapsed),
      unit: "events/s",
      note: `${(total / stats.commits).toFixed(1)} events per fdatasync (target ≥ 20,000/s)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
