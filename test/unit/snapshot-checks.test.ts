// A snapshot is taken only when it is what its reader and its name say: made by the daemon's fold
// version and standing at the seq in its file name (else passed over like a torn one, for the
// segments), and written at a rotation only when the state stands at the closed segment's last seq.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { Logger } from "pino";
import { openEventLog } from "../../daemon/open-event-log.js";
import { EventLogRotation } from "../../daemon/rotate-event-log.js";
import { STATE_FOLD_VERSION, StateSnapshot } from "../../daemon/state-snapshot.js";
import { EventLog } from "../../src/eventlog/append.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { listRecordFiles, segmentPath, snapshotPath } from "../../src/eventlog/segments.js";
import { encodeSnapshot } from "../../src/eventlog/snapshot-file.js";
import { SeqIndex } from "../../src/eventlog/seq-index.js";
import { resolvePaths, type CpwdPaths } from "../../src/platform/paths.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { waitFor } from "../helpers/daemon.js";

let home: string;
let paths: CpwdPaths;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-snapshot-checks-"));
  paths = resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: 0 });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A logger that keeps its warnings. */
function warnings(): { logger: Logger; warned: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const warned: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = { info() {}, error() {}, debug() {}, warn: (obj: Record<string, unknown>, msg: string) => warned.push({ obj, msg }) } as unknown as Logger;
  return { logger, warned };
}

const ev = (seq: number): EventRecord => ({ v: 1, seq, ts: new Date(seq * 1000).toISOString(), type: "ext.note", source: "cli", payload: { seq } });

/** Seq 1…10 in a closed segment, and a snapshot named for seq 10 with this header. */
function recordWithSnapshot(header: { seq: number; fold: number }): string {
  mkdirSync(join(home, "segments"), { recursive: true });
  writeFileSync(segmentPath(paths.events, 1, 10), Array.from({ length: 10 }, (_, i) => serializeEvent(ev(i + 1))).join(""));
  const file = snapshotPath(paths.events, 10);
  // A bogus count: a daemon that took this snapshot would say the record holds 1000 events more.
  writeFileSync(file, encodeSnapshot({ ...header, meta: { eventCount: 1000 }, records: [] }));
  return file;
}

for (const [what, header] of [
  ["made by another fold version", { seq: 10, fold: STATE_FOLD_VERSION + 1 }],
  ["whose header names another seq than its file", { seq: 7, fold: STATE_FOLD_VERSION }],
] as const) {
  test(`a snapshot ${what} is passed over like a torn one, for the segments`, async () => {
    const file = recordWithSnapshot(header);
    const { logger, warned } = warnings();
    const opened = await openEventLog(paths, "test", logger);
    try {
      assert.ok(warned.some((w) => w.obj.file === file), "the snapshot is named as passed over");
      assert.equal(opened.lastSeq, 10);
      // The 10 events, daemon.started, and none of the snapshot's count.
      assert.equal(opened.log.stats().eventCount, 11);
    } finally {
      await opened.log.close();
    }
  });
}

test("a rotation writes no snapshot of a state that is not at the closed segment's last seq, and says so", async () => {
  const log = await EventLog.open(paths.events, { lastSeq: 0, eventCount: 0, sizeBytes: 0, index: new SeqIndex() }, { durable: false });
  // A state that applies none of the log's events: it stands at seq 0.
  const state = new StateSnapshot(60_000);
  const { logger, warned } = warnings();
  const rotation = new EventLogRotation({ eventsFile: paths.events, log, state, logger, maxBytes: 200 });
  rotation.start();
  for (let i = 0; i < 5; i++) await log.append([{ type: "ext.note", source: "cli", payload: { i } }]);
  await waitFor("the live file to be closed", () => listRecordFiles(paths.events).segments.length > 0, 3_000);
  await rotation.close();
  assert.deepEqual(listRecordFiles(paths.events).snapshots, []);
  assert.ok(warned.some((w) => w.obj.stateSeq === 0), "the skipped snapshot is warned about");
  await log.close();
});
