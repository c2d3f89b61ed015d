// A rotation while a page is being read loses nothing: an offset of the live file is only good for
// the file it was taken from (an events.read or a subscription takes it, then waits for its turn at
// the heavy-work gate), and a live file closed after the segments were listed is read as a segment.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { EventLog, type RotationPolicy } from "../../src/eventlog/append.js";
import { readPage, readRecord } from "../../src/eventlog/read.js";
import { SeqIndex } from "../../src/eventlog/seq-index.js";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "cpwd-read-offset-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A log of seq 1…20 in its live file (every offset indexed), and a way to close that file once. */
async function twentyEvents(): Promise<{ file: string; log: EventLog; rotateOnce: () => Promise<void> }> {
  const file = join(dir, "events.jsonl");
  const log = await EventLog.open(file, { lastSeq: 0, eventCount: 0, sizeBytes: 0, index: new SeqIndex(1) }, { durable: false });
  for (let i = 1; i <= 20; i++) await log.append([{ type: "ext.note", source: "cli", payload: { i } }]);
  const rotateOnce = () =>
    new Promise<void>((resolve) => {
      const policy: RotationPolicy = {
        maxBytes: 1,
        onClosed: () => {
          policy.maxBytes = Number.MAX_SAFE_INTEGER;
          resolve();
        },
      };
      log.rotateBy(policy);
    });
  return { file, log, rotateOnce };
}

const note = (i: number) => [{ type: "ext.note", source: "cli" as const, payload: { i } }];

test("a page read with an offset taken before a rotation skips none of the events after it", async () => {
  const { file, log, rotateOnce } = await twentyEvents();
  // Taken as core-handlers and event-subscriptions take it, before their read gets its turn.
  const stale = log.liveOffsetFor(15);
  assert.ok(stale.startOffset > 0);
  await rotateOnce();
  await log.append(note(21));
  await log.append(note(22));
  const page = await readPage(file, { fromSeq: 15, limit: 100, upToSeq: log.lastSeq, ...stale });
  assert.deepEqual(page.events.map((e) => e.seq), range(15, 22));
  assert.equal(page.more, false);
  const fresh = await readPage(file, { fromSeq: 15, limit: 100, upToSeq: log.lastSeq, ...log.liveOffsetFor(15) });
  assert.deepEqual(fresh.events.map((e) => e.seq), range(15, 22));
  await log.close();
});

test("a live file closed while the segments are being read is read as a segment", async () => {
  const { file, log, rotateOnce } = await twentyEvents();
  await rotateOnce();
  await log.append(note(21));
  await log.append(note(22));
  const reading = readRecord(file, { fromSeq: 15 });
  const seqs = [(await reading.next()).value!.seq];
  // The segments are listed; now 21…22 move from the live file into one, and nothing follows.
  await rotateOnce();
  for await (const e of reading) seqs.push(e.seq);
  assert.deepEqual(seqs, range(15, 22));
  await log.close();
});
