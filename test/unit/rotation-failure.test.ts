// A rotation that fails is told, not swallowed: the writer reports it, tries again after a backoff
// rather than after every commit, and never loses its file handle without knowing: when the live
// file can be neither put back nor reopened, appends fail with the IO error (as on a full disk)
// instead of hanging, and resume once it can be opened again.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { EventLogRotation } from "../../daemon/rotate-event-log.js";
import { StateSnapshot } from "../../daemon/state-snapshot.js";
import { EventLog, type RotationFailure, type RotationPolicy } from "../../src/eventlog/append.js";
import { readRecord } from "../../src/eventlog/read.js";
import { listRecordFiles, segmentsDirOf } from "../../src/eventlog/segments.js";
import { SeqIndex } from "../../src/eventlog/seq-index.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-rotation-failure-"));
  file = join(dir, "events.jsonl");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const note = (i: number) => [{ type: "ext.note", source: "cli" as const, payload: { i } }];
const openLog = () => EventLog.open(file, { lastSeq: 0, eventCount: 0, sizeBytes: 0, index: new SeqIndex() }, { durable: false });

async function seqs(): Promise<number[]> {
  const out: number[] = [];
  for await (const e of readRecord(file)) out.push(e.seq);
  return out;
}

/** Settles within `ms`, or says the append hangs. */
function within<T>(p: Promise<T>, ms = 5_000): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => assert.fail(`still pending after ${ms} ms`))]);
}

test("a rotation that cannot make segments/ is reported once, and retried after a backoff, not on every commit", async () => {
  writeFileSync(segmentsDirOf(file), "a file where the folder should be");
  const log = await openLog();
  const failures: Array<{ err: unknown; info: RotationFailure }> = [];
  const closed: number[] = [];
  const policy: RotationPolicy = {
    maxBytes: 1,
    retryMinMs: 1_000,
    onClosed: (s) => {
      closed.push(s.lastSeq);
      policy.maxBytes = Number.MAX_SAFE_INTEGER; // one rotation only
    },
    onError: (err, info) => failures.push({ err, info }),
  };
  log.rotateBy(policy);
  for (let i = 1; i <= 5; i++) await log.append(note(i));
  assert.equal(failures.length, 1, "one failure told; the commits after it do not retry yet");
  assert.deepEqual(failures[0]!.info, { attempts: 1, retryInMs: 1_000, rotated: false });
  const live = readFileSync(file, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(live, [1, 2, 3, 4, 5], "the live file took every event");
  // The folder can be made now; after the backoff, the next commit rotates.
  rmSync(segmentsDirOf(file));
  await sleep(1_100);
  await log.append(note(6));
  await within((async () => {
    while (closed.length === 0) await sleep(10);
  })());
  assert.deepEqual(closed, [5], "the retry closed the live file before seq 6");
  assert.equal(failures.length, 1);
  assert.equal(listRecordFiles(file).segments.length, 1);
  assert.deepEqual(await seqs(), [1, 2, 3, 4, 5, 6]);
  await log.close();
});

test("when the live file can be neither put back nor reopened, appends fail with the IO error, then resume", async () => {
  const log = await openLog();
  for (let i = 1; i <= 3; i++) await log.append(note(i));
  const failures: RotationFailure[] = [];
  const closed: number[] = [];
  const policy: RotationPolicy = {
    maxBytes: 1,
    onClosed: (s) => {
      closed.push(s.lastSeq);
      policy.maxBytes = Number.MAX_SAFE_INTEGER;
    },
    onError: (_err, info) => failures.push(info),
    // Between the two renames: a folder takes the live file's name, so neither the new live file
    // nor the old one can be renamed there, and it cannot be opened for appending.
    onStep: (step) => {
      if (step === "renamed") mkdirSync(file);
    },
  };
  log.rotateBy(policy);
  const refused = await within(log.append(note(4)).then(() => null, (err: unknown) => err));
  assert.ok(refused instanceof CpwdError && refused.code === ErrorCode.Io, `an IO error, not ${String(refused)}`);
  assert.deepEqual(closed, [3], "the old live file stands as a whole segment");
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.rotated, true);
  // The folder goes: the next append reopens the live file and is recorded after the segment.
  rmdirSync(file);
  const [rec] = await within(log.append(note(5)));
  assert.equal(rec!.seq, 4);
  assert.equal(log.writeFailure, null);
  assert.deepEqual(await seqs(), [1, 2, 3, 4]);
  await log.close();
});

test("the daemon's rotation warns that events.jsonl cannot be rotated", async () => {
  writeFileSync(segmentsDirOf(file), "a file where the folder should be");
  const log = await openLog();
  const warned: string[] = [];
  const logger = { info() {}, error() {}, debug() {}, warn: (_obj: object, msg: string) => warned.push(msg) } as unknown as Logger;
  const rotation = new EventLogRotation({ eventsFile: file, log, state: new StateSnapshot(60_000), logger, maxBytes: 1 });
  rotation.start();
  for (let i = 1; i <= 5; i++) await log.append(note(i));
  await rotation.close();
  assert.deepEqual(warned.filter((m) => m.includes("could not be rotated")).length, 1);
  await log.close();
});
