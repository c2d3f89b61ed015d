// `cpwd gc` frees what nothing needs — removed workers' folders, segments past the retention and
// the snapshots before them — beside a running daemon, and says what it freed; --dry-run only says.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cpwd, pathsFor, startDaemon } from "../helpers/daemon.js";
import { exitedWorker, fillRecord, segmentFiles as segments, withRotatingRecord } from "../helpers/rotating-record.js";

test("cpwd gc removes removed workers' folders and old segments beside a running daemon, saying what it freed; --dry-run only says", () => withRotatingRecord(2, async (home, run) => {
  const c = await run.d!.client();
  const gone = await exitedWorker(c, "gone");
  const kept = await exitedWorker(c, "kept");
  await c.call("worker.remove", { target: gone });
  // What a crash between `worker.removed` and the folder's removal leaves; and a folder past the
  // record's next worker number (a spawn in flight makes its folder before its event lands).
  const workers = pathsFor(home).workers;
  mkdirSync(join(workers, gone, "logs"), { recursive: true });
  writeFileSync(join(workers, gone, "logs", "stdout.log"), "x".repeat(10_000));
  mkdirSync(join(workers, "W99"));
  await fillRecord(c, home);
  const before = segments(home);
  assert.ok(before.filter((n) => n.endsWith(".gz")).length >= 6, before.join(" "));

  const dry = cpwd(home, ["gc", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`^would remove ${gone}'s folder \\(a removed worker, 9\\.8 KiB\\)$`, "m"));
  assert.match(dry.stdout, /^would remove segments\/events-0+1-\d+\.jsonl\.gz \(\d+ B\)$/m);
  assert.match(dry.stdout, /^would free [\d.]+ KiB in \d+ files and folders: 1 removed worker's folder, \d+ segments, \d+ snapshots; keeping the newest 2 segments \(config eventSegmentsKept\)$/m);
  assert.deepEqual(segments(home), before, "a dry run removes nothing");
  assert.ok(existsSync(join(workers, gone)));

  const gc = cpwd(home, ["gc"]);
  assert.equal(gc.code, 0, gc.stderr);
  assert.equal(gc.stdout, dry.stdout.replaceAll("would remove", "removed").replace("would free", "freed"), "it frees what the dry run said");
  assert.ok(!existsSync(join(workers, gone)), "the removed worker's folder is gone");
  assert.ok(existsSync(join(workers, kept)) && existsSync(join(workers, "W99")), "a listed worker's folder and one past the next number stay");
  const after = segments(home);
  assert.equal(after.filter((n) => n.endsWith(".gz")).length, 2, after.join(" "));
  assert.ok(after.filter((n) => n.startsWith("snapshot-")).length >= 2, "the two newest snapshots stay");
  assert.match(cpwd(home, ["gc"]).stdout, /^freed 0 B in 0 files and folders: 0 removed workers' folders, 0 segments, 0 snapshots/m);

  // The daemon, and a daemon started afresh, still have everything they need.
  assert.equal((await c.call("events.append", { type: "ext.after", payload: {} })).seq > 0, true);
  c.close();
  await run.d!.stop();
  run.d = await startDaemon(home);
  const c2 = await run.d.client();
  const listed = ((await c2.call("status")).workers as Array<{ id: string; state: string }>).map((w) => `${w.id}:${w.state}`);
  assert.deepEqual(listed, [`${kept}:exited`]);
  const events = cpwd(home, ["events", "--from", "1", "--limit", "3", "--json"]);
  const first = Number(/^events-(\d+)/.exec(after.find((n) => n.endsWith(".gz"))!)![1]);
  assert.equal(JSON.parse(events.stdout.split("\n")[0]!).seq, first, "events from seq 1 start at the oldest segment kept");
  assert.match(cpwd(home, ["replay"]).stdout, new RegExp(`${kept}\\s+kept\\s+exited`));
  c2.close();
}));
