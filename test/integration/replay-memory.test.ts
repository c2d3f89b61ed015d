// Replay keeps nothing per event: `cpwd replay` and a daemon's start fold a 300,000-event history
// under a heap limit that holding its events would overflow many times over.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { LISTED_WORKERS, writeHistory } from "../../bench/history.js";
import { CLI, cleanup, pathsFor, startDaemon, tempHome, testEnv, type TestDaemon } from "../helpers/daemon.js";

const EVENTS = 300_000;

test("cpwd replay and a daemon's start fold a long history in a small, fixed heap", async () => {
  const home = tempHome();
  let d: TestDaemon | undefined;
  try {
    writeHistory(pathsFor(home).events, EVENTS);
    // 300,000 parsed events take well over 100 MiB of heap; the replay gets 32.
    const r = spawnSync(process.execPath, ["--max-old-space-size=32", CLI, "replay", "--json"], { env: testEnv(home), encoding: "utf8", maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const folded = JSON.parse(r.stdout) as { atSeq: number; workers: unknown[]; anomalies: number };
    assert.deepEqual({ atSeq: folded.atSeq, workers: folded.workers.length, anomalies: folded.anomalies }, { atSeq: EVENTS, workers: LISTED_WORKERS, anomalies: 0 });

    d = await startDaemon(home, { NODE_OPTIONS: "--max-old-space-size=64" });
    const c = await d.client();
    const status = await c.call("status");
    assert.equal(status.workers.length, LISTED_WORKERS);
    assert.ok(status.lastSeq > EVENTS, "the history and this start's events");
    c.close();
  } finally {
    await cleanup(d, home);
  }
});
