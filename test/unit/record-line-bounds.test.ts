// Lines at the edges of what the readers take: a multi-byte character split across two chunks of
// a segment reads whole, and a line with no newline in sight (a tail of NULs after a power cut) is
// dropped once it passes the largest good line, instead of being grown without end.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { NeedleScanner } from "../../src/eventlog/needle-scan.js";
import { readRecord } from "../../src/eventlog/read.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { LineScanner } from "../../src/eventlog/scan.js";
import { segmentPath } from "../../src/eventlog/segments.js";
import type { EventRecord } from "../../src/protocol/events.js";

const dir = mkdtempSync(join(tmpdir(), "cpwd-line-bounds-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ev = (seq: number, text: string): EventRecord => ({ v: 1, seq, ts: new Date(seq * 1000).toISOString(), type: "ext.note", source: "cli", payload: { text } });

/** Four lines of 3-byte characters, padded so that byte 1 MiB (a chunk boundary) falls inside one. */
function euroLines(): { events: EventRecord[]; bytes: Buffer } {
  for (let pad = 0; ; pad++) {
    const events = [1, 2, 3, 4].map((seq) => ev(seq, (seq === 1 ? "x".repeat(pad) : "") + "€".repeat(100_000)));
    const bytes = Buffer.from(events.map(serializeEvent).join(""));
    const at = bytes[1024 * 1024]!;
    if (at >= 0x80 && at < 0xc0) return { events, bytes };
  }
}

test("a segment's non-ASCII text split across two chunks reads whole, plain or compressed", async () => {
  const { events, bytes } = euroLines();
  for (const compressed of [false, true]) {
    const home = join(dir, compressed ? "gz" : "plain");
    mkdirSync(join(home, "segments"), { recursive: true });
    const file = join(home, "events.jsonl");
    writeFileSync(segmentPath(file, 1, 4, compressed), compressed ? gzipSync(bytes) : bytes);
    const got: EventRecord[] = [];
    for await (const e of readRecord(file)) got.push(e);
    assert.deepEqual(got.map((e) => e.payload.text), events.map((e) => e.payload.text), compressed ? "compressed" : "plain");
  }
});

/** 64 MiB of NULs in 64 KiB chunks, then a good line: what each scanner is fed. */
function feedNulTail(push: (chunk: Buffer) => void): number {
  const started = Date.now();
  push(Buffer.from(serializeEvent(ev(1, "before"))));
  const nuls = Buffer.alloc(64 * 1024);
  for (let i = 0; i < 1024; i++) push(nuls);
  push(Buffer.from(`\n${serializeEvent(ev(2, "after"))}`));
  return Date.now() - started;
}

test("the line scanner drops a line with no newline once it passes the largest good line", () => {
  const seqs: number[] = [];
  const scanner = new LineScanner((e) => seqs.push(e.seq));
  const ms = feedNulTail((c) => scanner.push(c));
  const r = scanner.end();
  assert.deepEqual(seqs, [1, 2]);
  assert.equal(r.badLinesKept, 1, "the NULs are one bad line");
  assert.equal(r.goodEndBytes, r.sizeBytes);
  // Re-gathering the carry on every chunk copies gigabytes (tens of seconds); dropping it, none.
  assert.ok(ms < 3000, `64 MiB of NULs took ${ms} ms`);
});

test("the needle scanner drops a line with no newline once it passes the largest good line", () => {
  const seqs: number[] = [];
  const scanner = new NeedleScanner('"type":"ext.', (e) => seqs.push(e.seq));
  const ms = feedNulTail((c) => scanner.push(c));
  assert.deepEqual(seqs, [1, 2]);
  assert.equal(scanner.lastSeq, 2);
  assert.ok(ms < 3000, `64 MiB of NULs took ${ms} ms`);
});
