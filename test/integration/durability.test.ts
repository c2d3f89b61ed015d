// The record survives what a daemon can suffer: kill -9 in the middle of a burst of appends,
// a torn tail, and events written to the fallback log while it was down.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { cleanup, pathsFor, startDaemon, tempHome, waitFor, waitGone, type TestDaemon } from "../helpers/daemon.js";

function readLog(file: string) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { seq: number; type: string; source: string; payload: Record<string, unknown> });
}

function assertGapless(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `seq ${seqs[i - 1]} is followed by ${seqs[i]}`);
}

test("kill -9 during a burst of appends: every line parses, seq continues with no gap or repeat", async () => {
  let d: TestDaemon | undefined = await startDaemon();
  const home = d.home;
  try {
    const clients = await Promise.all(Array.from({ length: 16 }, () => d!.client()));
    let acked = 0;
    const producers = clients.map(async (c, p) => {
      for (let i = 0; ; i++) {
        try {
          await c.call("events.append", { type: "ext.burst", payload: { p, i } });
          acked++;
        } catch {
          return; // the daemon died under us
        }
      }
    });
    await waitFor("a few hundred acknowledged appends", () => acked > 300);
    await d.kill9();
    await Promise.all(producers);
    for (const c of clients) c.close();
    // Every acknowledged append is durable: at least that many burst events are on disk.
    const before = readLog(d.paths.events);
    assert.ok(before.filter((e) => e.type === "ext.burst").length >= acked);

    // Simulate the worst case too: a write torn in half by the kill.
    appendFileSync(d.paths.events, '{"v":1,"seq":999999,"ts":"x","type":"ext.torn","sou');
    d = await startDaemon(home);
    await d.stop();
    const after = readLog(d.paths.events);
    assertGapless(after.map((e) => e.seq));
    const recovered = after.find((e) => e.type === "log.recovered");
    assert.ok(recovered, "recovery is recorded");
    assert.ok(Number(recovered.payload.truncatedBytes) > 0);
    assert.match(readFileSync(d.paths.quarantine, "utf8"), /ext\.torn/);
    const restarted = after.filter((e) => e.type === "daemon.started");
    assert.equal(restarted.length, 2);
    assert.equal(restarted[1]!.payload.recoveredSeq, before.at(-1)!.seq);
  } finally {
    await cleanup(d, home);
  }
});

test("events written to the fallback log while the daemon is down are ingested at start, exactly once", async () => {
  const home = tempHome();
  const paths = pathsFor(home);
  let d: TestDaemon | undefined;
  try {
    for (let i = 0; i < 3; i++) appendFallback(paths.fallback, { type: "ext.offline", session: "s1", payload: { i } });
    d = await startDaemon(home);
    // Growth while it runs is noticed too (fs.watch, no polling).
    appendFallback(paths.fallback, { type: "ext.offline", payload: { i: 3 } });
    await waitFor("the live append to be ingested", () => readLog(paths.events).filter((e) => e.type === "ext.offline").length === 4);
    await d.stop();
    d = await startDaemon(home);
    await d.stop();
    const events = readLog(paths.events).filter((e) => e.type === "ext.offline");
    assert.equal(events.length, 4, "a restart does not ingest again");
    assert.ok(events.every((e) => e.source === "fallback"));
    assert.deepEqual(events.map((e) => e.payload.i), [0, 1, 2, 3]);
    assert.ok(existsSync(`${paths.fallback}.offset`));
  } finally {
    await cleanup(d, home);
  }
});

test("the daemon keeps serving after it is killed and restarted many times in a row", async () => {
  let d: TestDaemon | undefined = await startDaemon();
  const home = d.home;
  try {
    for (let i = 0; i < 3; i++) {
      await d.kill9();
      await waitGone(d.pid);
      d = await startDaemon(home);
    }
    const c = await d.client();
    assert.equal((await c.call("ping")).pid, d.pid);
    c.close();
  } finally {
    await cleanup(d, home);
  }
});
