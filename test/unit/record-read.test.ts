// Reading the record across its closed segments and the live file: in seq order, each event once,
// from any seq, with an offset that belongs to the file before a rotation, and the tail.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { readPage, readRecord } from "../../src/eventlog/read.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { segmentPath } from "../../src/eventlog/segments.js";
import { readRecordTail } from "../../src/eventlog/tail.js";
import type { EventRecord } from "../../src/protocol/events.js";

const dir = mkdtempSync(join(tmpdir(), "cpwd-read-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ev = (seq: number): EventRecord => ({ v: 1, seq, ts: new Date(seq * 1000).toISOString(), type: seq % 2 ? "ext.odd" : "ext.even", source: "cli", payload: { seq } });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => serializeEvent(ev(from + i))).join("");

/** A record of seq 1…90: three closed segments (one still plain), then the live file. */
function makeRecord(name: string): string {
  const home = join(dir, name);
  mkdirSync(join(home, "segments"), { recursive: true });
  const file = join(home, "events.jsonl");
  writeFileSync(segmentPath(file, 1, 30, true), gzipSync(lines(1, 30)));
  writeFileSync(segmentPath(file, 31, 50, true), gzipSync(lines(31, 50)));
  writeFileSync(segmentPath(file, 51, 70), lines(51, 70));
  writeFileSync(file, lines(71, 90));
  return file;
}

async function seqsOf(it: AsyncIterable<EventRecord>): Promise<number[]> {
  const out: number[] = [];
  for await (const e of it) out.push(e.seq);
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("the record reads across compressed and plain segments and the live file, from any seq", async () => {
  const file = makeRecord("across");
  assert.deepEqual(await seqsOf(readRecord(file)), range(1, 90));
  assert.deepEqual(await seqsOf(readRecord(file, { fromSeq: 45 })), range(45, 90));
  assert.deepEqual(await seqsOf(readRecord(file, { fromSeq: 80 })), range(80, 90));
  const page = await readPage(file, { fromSeq: 25, limit: 10, type: "ext.odd" });
  assert.deepEqual(page.events.map((e) => e.seq), [25, 27, 29, 31, 33, 35, 37, 39, 41, 43]);
  assert.equal(page.more, true);
});

test("an offset of the live file from before a rotation is checked, not trusted", async () => {
  const file = makeRecord("stale");
  // An offset in the middle of the (now) live file, as the index of the file before had it.
  const got = await seqsOf(readRecord(file, { fromSeq: 60, liveOffset: 700 }));
  assert.deepEqual(got, range(60, 90));
});

test("the tail reaches into the segments when the live file holds too few", async () => {
  const file = makeRecord("tail");
  const tail = await readRecordTail(file, 25);
  assert.deepEqual(tail.events.map((e) => e.seq), range(66, 90));
  assert.equal(tail.lastSeq, 90);
  const odd = await readRecordTail(file, 30, (e) => e.type === "ext.odd");
  assert.deepEqual(odd.events.map((e) => e.seq), range(1, 90).filter((s) => s % 2 === 1).slice(-30));
  writeFileSync(file, "");
  assert.equal((await readRecordTail(file, 3)).lastSeq, 70, "just after a rotation: the last seq is the newest segment's");
});
