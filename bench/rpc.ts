// RPC figures: `ping` round trip on one connection against a bare Node echo server's round trip
// (blocks of each, interleaved), and ping throughput on 8 connections.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { onInterrupt, percentile, withBenchDaemon, type Figure } from "./lib.js";
import { drive, LineClient, startEchoServer } from "./raw-client.js";

const BLOCKS = 8;
const PER_BLOCK = 500;

async function roundTrips(c: LineClient, n: number, into: number[] | null): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.roundTrip(`{"jsonrpc":"2.0","id":${i},"method":"ping"}\n`);
    into?.push(performance.now() - t0);
  }
}

export function benchRpc(): Promise<Figure[]> {
  return withBenchDaemon({}, async (d) => {
    const echoPath = join(d.home, "echo.sock");
    const echo = await startEchoServer(echoPath);
    const forget = onInterrupt(() => echo.kill());
    try {
      const cp = await LineClient.connect(d.paths.socket);
      const ce = await LineClient.connect(echoPath);
      const first = JSON.parse(await cp.roundTrip(`{"jsonrpc":"2.0","id":0,"method":"ping"}\n`)) as { result?: { pong?: boolean } };
      if (first.result?.pong !== true) throw new Error(`ping answered ${JSON.stringify(first)}`);
      await roundTrips(cp, 500, null);
      await roundTrips(ce, 500, null);
      const pingMs: number[] = [];
      const echoMs: number[] = [];
      for (let b = 0; b < BLOCKS; b++) {
        await roundTrips(ce, PER_BLOCK, echoMs);
        await roundTrips(cp, PER_BLOCK, pingMs);
      }
      cp.close();
      ce.close();
      pingMs.sort((a, b) => a - b);
      echoMs.sort((a, b) => a - b);
      const p50 = percentile(pingMs, 50);
      const echo50 = percentile(echoMs, 50);

      const thr = await drive(d.paths.socket, 8, 1, 2_000, (_, n) => `{"jsonrpc":"2.0","id":${n},"method":"ping"}\n`);
      return [
        {
          name: "RPC `ping` p50",
          value: p50,
          unit: "ms",
          baseline: { name: "Node echo server p50", value: echo50, unit: "ms" },
          ratio: p50 / echo50,
          target: { of: "value", op: "<=", limit: 0.019, text: "keep (ref 0.019 ms)", keep: true },
          issue: true,
          note: `1 connection, ${BLOCKS * PER_BLOCK} calls`,
        },
        { name: "RPC `ping` p99", value: percentile(pingMs, 99), unit: "ms", baseline: { name: "echo p99", value: percentile(echoMs, 99), unit: "ms" }, ratio: percentile(pingMs, 99) / percentile(echoMs, 99), issue: false },
        { name: "RPC `ping` calls/s", value: thr.replies / (thr.elapsedMs / 1000), unit: "calls/s", issue: false, note: `8 connections × 1 in flight${thr.errors ? `, ${thr.errors} errors` : ""}` },
      ];
    } finally {
      forget();
      echo.kill();
      rmSync(echoPath, { force: true });
    }
  });
}
