// Replay of 1 M events: `cpwd replay`'s wall time and peak RSS against a bare Node loop that reads
// the same file and JSON.parses every line (the floor for any replay), rounds interleaved; and,
// beside them, a daemon starting on that history.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CLI, tempHome, testEnv } from "../test/helpers/daemon.js";
import { LISTED_WORKERS, writeHistory } from "./history.js";
import { median, onInterrupt, runNodeMeasured, sampleRssMiB, sleep, withBenchDaemon, type Figure } from "./lib.js";

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

  // A daemon starting on the same history: until it answers ping, and its RSS once settled. The
  // home goes with it.
  const t0 = performance.now();
  const { startS, rss } = await withBenchDaemon({ home }, async (d) => {
    const startS = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const [rss] = await sampleRssMiB([d.pid]);
    return { startS, rss: rss! };
  });

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
    { name: "daemon start on the 1 M-event history", value: startS, unit: "s", issue: false, note: "until it answers ping" },
    { name: "daemon RSS after that start", value: rss, unit: "MiB", issue: false },
  ];
}
