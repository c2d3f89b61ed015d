// `cpwd gc` and an incomplete record: with gaps (segments gone, snapshots torn) it removes nothing
// and says why, and the offline readings warn; with a single whole snapshot it keeps every segment,
// the start-up's only fallback should that snapshot later read torn.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cpwd, pathsFor, startDaemon } from "../helpers/daemon.js";
import { liveWorker } from "../helpers/fixtures.js";
import { exitedWorker, fillRecord, keptWorkerThenStopped, segmentFiles, withRotatingRecord } from "../helpers/rotating-record.js";

const segmentsDir = (home: string) => join(home, "segments");
const snapshots = (home: string) => segmentFiles(home).filter((n) => n.startsWith("snapshot-"));
const gzSegments = (home: string) => segmentFiles(home).filter((n) => n.endsWith(".jsonl.gz"));

test("cpwd gc refuses a record with gaps and keeps a running worker's folder; offline status, claims and logs warn", () => withRotatingRecord(1, async (home, run) => {
  const c = await run.d!.client();
  const live = await liveWorker(c, "live");
  await fillRecord(c, home);
  const later = await exitedWorker(c, "later");
  await fillRecord(c, home, 50);
  // The stretch holding the live worker's worker.queued goes, and no whole snapshot covers it.
  for (const name of snapshots(home)) writeFileSync(join(segmentsDir(home), name), "torn");
  const first = gzSegments(home)[0]!;
  assert.match(first, /^events-0+1-/);
  rmSync(join(segmentsDir(home), first));

  const gc = cpwd(home, ["gc"]);
  assert.equal(gc.code, 1, gc.stdout);
  assert.equal(gc.stdout, "");
  assert.match(gc.stderr, /^cpwd gc: the record has no events 1…\d+ and no whole snapshot after them .*; nothing removed\. Restore segments\/ or a snapshot under .*, then run cpwd gc again\n$/);
  assert.ok(existsSync(join(pathsFor(home).workers, live)), "the running worker's folder stays");
  assert.equal((await c.call("worker.get", { target: live })).workers[0]?.state, "running");
  c.close();

  await run.d!.stop();
  run.d = undefined;
  const warning = (command: string) => new RegExp(`^cpwd ${command}: warning: the record has no events 1…\\d+ and no whole snapshot after them .*missing below; restore segments/ or a snapshot`, "m");
  const status = cpwd(home, ["status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, warning("status"));
  const claims = cpwd(home, ["claims"]);
  assert.equal(claims.code, 0, claims.stderr);
  assert.match(claims.stderr, warning("claims"));
  const logs = cpwd(home, ["logs", later]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stderr, warning("logs"));
}));

test("with one whole snapshot, cpwd gc keeps every segment, and a daemon starts even after that snapshot tears", () => withRotatingRecord(1, async (home, run) => {
  const kept = await keptWorkerThenStopped(home, run);
  const all = snapshots(home);
  assert.ok(all.length >= 2, all.join(" "));
  for (const name of all.slice(0, -1)) rmSync(join(segmentsDir(home), name));
  const before = gzSegments(home);
  assert.ok(before.length >= 3, before.join(" "));

  const gc = cpwd(home, ["gc"]);
  assert.equal(gc.code, 0, gc.stderr);
  assert.deepEqual(gzSegments(home), before, "no segment goes while the one snapshot has no fallback");

  writeFileSync(join(segmentsDir(home), all.at(-1)!), "torn");
  run.d = await startDaemon(home);
  const c2 = await run.d.client();
  const listed = ((await c2.call("status")).workers as Array<{ id: string; state: string }>).map((w) => `${w.id}:${w.state}`);
  assert.deepEqual(listed, [`${kept}:exited`]);
  c2.close();
}));
