// A daemon whose record rotates every 4 KiB, for the tests of segments, snapshots and `cpwd gc`:
// the home, its config, the daemon (which a test may stop and start again through `run.d`) and
// the clean-up; and the record filled until several segments are closed and compressed.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RpcClient } from "../../src/rpc/client.js";
import { cleanup, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "./daemon.js";
import { nodeFixture } from "./fixtures.js";

/** The files in the home's segments/ folder, sorted. */
export const segmentFiles = (home: string): string[] => readdirSync(join(home, "segments")).sort();

/**
 * Runs `body` with a fresh home whose record rotates every 4 KiB and keeps `segmentsKept`
 * compressed segments (the default when undefined), and its daemon started; stops whatever daemon `run.d` holds at the end.
 */
export async function withRotatingRecord(segmentsKept: number | undefined, body: (home: string, run: { d?: TestDaemon }) => Promise<void>): Promise<void> {
  const home = tempHome();
  writeFileSync(pathsFor(home).config, JSON.stringify({ eventLogMaxBytes: 4096, ...(segmentsKept === undefined ? {} : { eventSegmentsKept: segmentsKept }) }));
  const run: { d?: TestDaemon } = {};
  try {
    run.d = await startDaemon(home);
    await body(home, run);
  } finally {
    await cleanup(run.d, home);
  }
}

/** Appends enough events to close several segments, and waits for their compression and snapshots. */
export async function fillRecord(c: RpcClient, home: string, count = 200): Promise<void> {
  for (let i = 0; i < count; i++) await c.call("events.append", { type: "ext.fill", payload: { i, pad: "x".repeat(120) } });
  await waitFor("rotation to settle", () => !segmentFiles(home).some((n) => n.endsWith(".tmp") || n.endsWith(".jsonl")));
}

/** Spawns a worker that exits 0 at once, and waits until it has. */
export async function exitedWorker(c: RpcClient, name: string): Promise<string> {
  const { worker } = await c.call("worker.spawn", { argv: nodeFixture("exit.js", "0"), name, cwd: "/", env: { PATH: process.env.PATH ?? "" } });
  const id = String(worker.id);
  await waitFor(`${name} to exit`, async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "exited");
  return id;
}

/**
 * A worker `kept` that exited, then the record filled past several segments, then the daemon
 * stopped (`run.d` cleared): the record a test of gc or start-up then works on. Returns kept's id.
 */
export async function keptWorkerThenStopped(home: string, run: { d?: TestDaemon }): Promise<string> {
  const c = await run.d!.client();
  const kept = await exitedWorker(c, "kept");
  await fillRecord(c, home);
  c.close();
  await run.d!.stop();
  run.d = undefined;
  return kept;
}
