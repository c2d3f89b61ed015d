// One greedy client against the real daemon: it pipelines two thousand whole-log `events.read`
// calls (each answered with about 1 MiB) and never reads a reply. The daemon must neither buffer
// those replies nor run hundreds of reads at once for it: its peak memory stays near where it
// was, another client's pings and reads are answered throughout, and the greedy connection is
// paused, not dropped: once it reads, its replies come. Latencies and memory are
// printed, not asserted (the machine is noisy); what is asserted does not depend on timing.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { cleanup, pidAlive, startDaemon, type TestDaemon } from "../helpers/daemon.js";
import { appendFillEvents, nonReadingConnect, rawConnect, type RawConn } from "../helpers/raw-socket.js";

type Reply = { id: unknown; result?: any; error?: { code: number; message: string; data?: any } };

const EVENTS = 3_000;
const PAD = "x".repeat(600); // ~700 bytes an event: the log is about 2 MiB, a whole-log read is cut at 1 MiB
const GREEDY_READS = 2_000;
const MiB = 1024 * 1024;
const onLinux = process.platform === "linux";

/** A field of /proc/<pid>/status, in bytes (the file gives kB). */
function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Sets the process's peak RSS (VmHWM) back to its current RSS. */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe("a client that pipelines events.read and never reads its replies", { skip: !onLinux && "reads /proc" }, () => {
  let d: TestDaemon;
  let conn: RawConn;
  before(async () => {
    d = await startDaemon();
    conn = await rawConnect(d.paths.socket);
    await appendFillEvents(conn, EVENTS, PAD);
  });
  after(async () => {
    conn?.close();
    await cleanup(d);
  });

  async function ask(method: string, params?: object, timeoutMs = 30_000): Promise<Reply> {
    conn.send(`${JSON.stringify({ jsonrpc: "2.0", id: method, method, ...(params ? { params } : {}) })}\n`);
    return (await conn.next(timeoutMs)) as Reply;
  }

  test("is paused rather than buffered for: the daemon's memory stays bounded and other clients are answered", async () => {
    assert.equal((await ask("ping")).result?.pong, true);
    resetPeakRss(d.pid);
    const baseline = procStatusBytes(d.pid, "VmRSS");

    const greedy = await nonReadingConnect(d.paths.socket);
    const read = (i: number) => `{"jsonrpc":"2.0","id":${i},"method":"events.read","params":{"fromSeq":0,"limit":10000}}\n`;
    greedy.socket.write(Array.from({ length: GREEDY_READS }, (_, i) => read(i)).join(""));

    // Another client pings throughout, and reads too: neither waits for the greedy client's queue.
    const latencies: number[] = [];
    const started = Date.now();
    while (latencies.length < 100 || Date.now() - started < 3_000) {
      const t0 = performance.now();
      const r = await ask("ping");
      latencies.push(performance.now() - t0);
      assert.equal(r.result?.pong, true, "ping is answered");
      if (latencies.length % 50 === 0) {
        const page = await ask("events.read", { fromSeq: 0, limit: 10_000 });
        assert.ok(page.result?.events.length > 0, "another client's read is answered");
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const peak = procStatusBytes(d.pid, "VmHWM");
    latencies.sort((a, b) => a - b);
    console.log(
      `greedy client: ${latencies.length} pings, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `max ${latencies[latencies.length - 1]!.toFixed(1)} ms; daemon RSS ${(baseline / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB`,
    );

    assert.ok(pidAlive(d.pid), "the daemon survived");
    assert.ok(peak - baseline < 100 * MiB, `peak RSS grew by ${((peak - baseline) / MiB).toFixed(0)} MiB (at most 100 MiB allowed)`);
    assert.equal(greedy.closed(), false, "the greedy connection is paused, not dropped");

    // Once it reads, its replies come, whole (two reads run at once, so not necessarily in order).
    const first = (await greedy.readLines(3, 60_000)) as Reply[];
    const ids = first.map((r) => r.id as number);
    assert.equal(new Set(ids).size, 3, `three different calls answered (${ids.join(", ")})`);
    assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < GREEDY_READS), `ids of the greedy calls (${ids.join(", ")})`);
    for (const r of first) assert.ok(r.result?.events.length > 0 && r.result.nextSeq <= r.result.lastSeq, "a full page");

    greedy.socket.destroy();
    assert.equal((await ask("ping")).result?.pong, true, "the daemon answers after the greedy client left");
  });
});
