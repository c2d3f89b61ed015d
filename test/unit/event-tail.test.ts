// Reading the end of events.jsonl backwards (`cpwd events -n N`): the last N wanted events in
// order, across chunk boundaries, past a torn last line and bad lines, and the log's last seq.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { eventMatches } from "../../src/eventlog/event-filter.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { readTail } from "../../src/eventlog/tail.js";
import type { EventRecord } from "../../src/protocol/events.js";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "cpwd-tail-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function event(seq: number, type: string, extra: Partial<EventRecord> = {}, payload: Record<string, unknown> = {}): EventRecord {
  return { v: 1, seq, ts: new Date(seq * 1000).toISOString(), type, source: "daemon", payload, ...extra };
}

test("the last N events, oldest first, from a log longer than many read chunks", () => {
  const file = join(dir, "events.jsonl");
  // Lines of about 1 KiB over ~300 KiB: the reader crosses chunk boundaries mid-line.
  writeFileSync(file, Array.from({ length: 300 }, (_, i) => serializeEvent(event(i + 1, i % 3 ? "ext.a" : "ext.b", {}, { pad: "x".repeat(1000 + (i % 7)) }))).join(""));
  const tail = readTail(file, 4);
  assert.deepEqual(tail.events.map((e) => e.seq), [297, 298, 299, 300]);
  assert.equal(tail.lastSeq, 300);
  const bs = readTail(file, 3, (e) => eventMatches(e, { type: "ext.b" }));
  assert.deepEqual(bs.events.map((e) => e.seq), [292, 295, 298]);
  assert.equal(readTail(file, 1000).events.length, 300, "fewer than asked: the whole log");
  assert.deepEqual(readTail(file, 0), { events: [], lastSeq: 300 });
  assert.deepEqual(readTail(file, 2, () => true, 150).events.map((e) => e.seq), [149, 150]);
});

test("a torn last line and bad lines are passed over; a missing log is empty", () => {
  const file = join(dir, "events.jsonl");
  writeFileSync(file, serializeEvent(event(1, "ext.a")) + "not json\n" + serializeEvent(event(2, "ext.a", { worker: "W2" })));
  appendFileSync(file, '{"v":1,"seq":3,"ts":"x","ty');
  const tail = readTail(file, 5);
  assert.deepEqual(tail.events.map((e) => e.seq), [1, 2]);
  assert.equal(tail.lastSeq, 2);
  assert.deepEqual(readTail(file, 5, (e) => eventMatches(e, { worker: "W2" })).events.map((e) => e.seq), [2]);
  assert.deepEqual(readTail(join(dir, "none.jsonl"), 5), { events: [], lastSeq: 0 });
});
