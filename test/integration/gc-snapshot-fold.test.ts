// `cpwd gc` counts as whole only the snapshots the daemon would start from: of its own fold. After
// an upgrade that changed the fold, the older snapshots are passed over at start-up and the
// segments after them are needed again, so gc must not free them; `cpwd replay` folds the segments.
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { STATE_FOLD_VERSION } from "../../daemon/state-snapshot.js";
import { encodeSnapshot, readSnapshot } from "../../src/eventlog/snapshot-file.js";
import { cpwd } from "../helpers/daemon.js";
import { keptWorkerThenStopped, segmentFiles as segments, withRotatingRecord } from "../helpers/rotating-record.js";

test("cpwd gc keeps every segment when no snapshot is of the daemon's fold, and replay still finds the workers", () => withRotatingRecord(2, async (home, run) => {
  const kept = await keptWorkerThenStopped(home, run);
  const dir = join(home, "segments");
  const snapshots = readdirSync(dir).filter((n) => n.startsWith("snapshot-"));
  assert.ok(snapshots.length >= 2, snapshots.join(" "));
  // Whole snapshots, checksums right, made by another fold (as after an upgrade).
  for (const name of snapshots) {
    const content = readSnapshot(join(dir, name))!;
    writeFileSync(join(dir, name), encodeSnapshot({ ...content, fold: STATE_FOLD_VERSION + 1 }), { mode: 0o600 });
  }
  const before = segments(home);
  const dry = cpwd(home, ["gc", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.doesNotMatch(dry.stdout, /would remove segments\//, "no segment is removable without a snapshot of this fold");
  assert.equal(cpwd(home, ["gc"]).code, 0);
  assert.deepEqual(segments(home).filter((n) => n.endsWith(".gz")), before.filter((n) => n.endsWith(".gz")));
  const replay = cpwd(home, ["replay"]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stdout, new RegExp(`${kept}\\s+kept\\s+exited`));
}));
