// Replay of 1 M events: `cpwd replay`'s wall time and peak RSS against a bare Node loop that reads
// the same file and JSON.parses every line (the floor for any replay), rounds interleaved; and,
// beside them, a daemon starting on that history twice: first as one 216 MB events.jsonl (the first
// start after an upgrade to rotation; it then closes that file into a segment with a snapshot),
// then again on the same home (the steady state: from the snapshot and a small live file).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CLI, tempHome, testEnv } from "../test/helpers/daemon.js";
import { listRecordFiles } from "../src/eventlog/segments.js";
import { LISTED_WORKERS, writeHistory } from "./history.js";
import { median, onInterrupt, peakRssKiB, runNodeMeasured, sampleRssMiB, sleep, valueAtMost, withBenchDaemon, type Figure } from "./lib.js";

const EVENTS = 1_000_000;
const ROUNDS = 3;

const PARSE_LOOP = `const fs = require("fs");
const fd = fs.openSync(process.argv[1], "r");
const chunk = Buffer.alloc(1 << 20);
let rest = "", pos = 0, n = 0, last = 0;
for (;;) {
  const got = fs.readSync(fd, chunk, 0, chunk.length, pos);
  if (got === 0) break;
  pos += got;
  const lines = (rest + chunk.toString("utf8", 0, got)).split("\\n");
  rest = lines.pop();
  for (const l of lines) { last = JSON.parse(l).seq; n++; }
}
if (n !== last) throw new Error("parsed " + n + " lines, last seq " + last);`;

export async function benchReplay(): Promise<Figure[]> {
  const home = tempHome("cpwd-bench-");
  const removeHome = (): void => rmSync(home, { recursive: true, force: true });
  const forget = onInterrupt(removeHome);
  const cpwd: Array<{ ms: number; maxRssKiB: number }> = [];
  const floor: Array<{ ms: number; maxRssKiB: number }> = [];
  try {
    const file = join(home, "events.jsonl");
    writeHistory(file, EVENTS);
    const env = testEnv(home, { CPWD_LOG_LEVEL: "warn" });
    // The history must fold cleanly, or the figure would time a fold that skips its work.
    const check = spawnSync(process.execPath, [CLI, "replay", "--json"], { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const folded = JSON.parse(check.stdout) as { atSeq: number; workers: unknown[]; anomalies: number };
    if (folded.atSeq !== EVENTS || folded.anomalies !== 0 || folded.workers.length !== LISTED_WORKERS) {
      throw new Error(`the synthetic history did not replay cleanly: ${JSON.stringify({ ...folded, workers: folded.workers.length })}`);
    }
    for (let r = 0; r < ROUNDS; r++) {
      floor.push(runNodeMeasured(["-e", PARSE_LOOP, file]));
      cpwd.push(runNodeMeasured([CLI, "replay"], env));
    }
  } catch (err) {
    removeHome();
    throw err;
  } finally {
    forget();
  }
  const s = (xs: Array<{ ms: number }>) => median(xs.map((x) => x.ms)) / 1000;
  const mib = (xs: Array<{ maxRssKiB: number }>) => median(xs.map((x) => x.maxRssKiB)) / 1024;
  const ratio = median(cpwd.map((x, i) => x.ms / floor[i]!.ms));

  // A daemon starting on the same history: until it answers ping, and its RSS once settled; then
  // until it has closed the big file into a compressed segment with a snapshot beside it.
  let first: { startS: number; rss: number };
  try {
    const t0 = performance.now();
    first = await withBenchDaemon({ home, keepHome: true }, async (d) => {
      const startS = (performance.now() - t0) / 1000;
      await sleep(2_000);
      const [rss] = await sampleRssMiB([d.pid]);
      await waitRotated(join(home, "events.jsonl"));
      return { startS, rss: rss! };
    });
  } catch (err) {
    removeHome();
    throw err;
  }
  // The next start on that home, from the snapshot: until it answers ping, and its peak RSS. The
  // home goes with it.
  const t1 = performance.now();
  const steady = await withBenchDaemon({ home }, async (d) => ({ startS: (performance.now() - t1) / 1000, peak: peakRssKiB(d.pid) / 1024 }));

  return [
    {
      name: "replay of 1 M events, wall",
      value: s(cpwd),
      unit: "s",
      baseline: { name: "JSON.parse loop over the file", value: s(floor), unit: "s" },
      ratio,
      target: { of: "value", op: "<=", limit: 2, text: "≤ 2 s" },
      issue: true,
      note: `\`cpwd replay\`, median of ${ROUNDS} paired runs`,
    },
    {
      name: "replay of 1 M events, peak RSS",
      value: mib(cpwd),
      unit: "MiB",
      baseline: { name: "JSON.parse loop", value: mib(floor), unit: "MiB" },
      ratio: mib(cpwd) / mib(floor),
      target: { of: "value", op: "<=", limit: 100, text: "≤ 100 MiB" },
      issue: true,
    },
    { name: "daemon start on the 1 M-event history", value: first.startS, unit: "s", issue: false, note: "first start after upgrade: one 216 MB events.jsonl, until it answers ping" },
    { name: "daemon RSS after that start", value: first.rss, unit: "MiB", issue: false },
    { name: "next daemon start on that home", value: steady.startS, unit: "s", target: valueAtMost(2, "s"), issue: false, note: "steady state: from the snapshot, until it answers ping" },
    { name: "peak RSS of that start", value: steady.peak, unit: "MiB", target: valueAtMost(100, "MiB"), issue: false },
  ];
}

/** Waits until the daemon has rotated events.jsonl: a snapshot written, every segment compressed, nothing half done. */
async function waitRotated(eventsFile: string, timeoutMs = 300_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(200)) {
    const files = listRecordFiles(eventsFile);
    if (files.snapshots.length > 0 && files.segments.length > 0 && files.segments.every((s) => s.compressed) && files.leftovers.length === 0) return;
  }
  throw new Error(`events.jsonl was not rotated within ${timeoutMs / 1000} s`);
}
