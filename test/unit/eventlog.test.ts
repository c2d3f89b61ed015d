// The event log on its own: group commit, seq order, recovery of a torn tail, the seq index, reads.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { EventLog } from "../../src/eventlog/append.js";
import { readRange } from "../../src/eventlog/read.js";
import { cutTornTail } from "../../src/eventlog/recover.js";
import { scanLog } from "../../src/eventlog/scan.js";
import { SeqIndex } from "../../src/eventlog/seq-index.js";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "cpwd-log-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function openFresh(file: string): Promise<EventLog> {
  const index = new SeqIndex(10);
  const scan = scanLog(file, (e, off) => index.note(e.seq, off));
  cutTornTail(file, `${file}.q`, scan.goodEndBytes, scan.sizeBytes, scan.badLinesInTail);
  return EventLog.open(file, { lastSeq: scan.lastSeq, eventCount: scan.eventCount, sizeBytes: scan.goodEndBytes, index });
}

describe("group commit", () => {
  test("64 concurrent producers get strictly increasing, gap-free seqs in far fewer commits", async () => {
    const file = join(dir, "events.jsonl");
    const log = await openFresh(file);
    const all = await Promise.all(
      Array.from({ length: 64 }, async (_, p) => {
        const seqs: number[] = [];
        for (let i = 0; i < 20; i++) {
          const [r] = await log.append([{ type: "ext.bench", payload: { p, i } }]);
          seqs.push(r!.seq);
        }
        return seqs;
      }),
    );
    for (const seqs of all) for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
    const flat = all.flat().sort((a, b) => a - b);
    assert.deepEqual(flat, Array.from({ length: 1280 }, (_, i) => i + 1));
    const stats = log.stats();
    assert.ok(stats.commits < 1280 / 8, `expected batching, got ${stats.commits} commits`);
    await log.close();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.seq), flat, "file order is seq order");
  });

  test("an event whose payload does not match its type's schema is refused and nothing is written", async () => {
    const file = join(dir, "events.jsonl");
    const log = await openFresh(file);
    await assert.rejects(log.append([{ type: "daemon.stopped", payload: { reason: 5 } }]));
    const [ok] = await log.append([{ type: "ext.fine", payload: {} }]);
    assert.equal(ok!.seq, 1);
    await log.close();
  });
});

describe("recovery", () => {
  function writeEvents(file: string, n: number): void {
    for (let i = 1; i <= n; i++) {
      appendFileSync(file, `${JSON.stringify({ v: 1, seq: i, ts: "t", type: "ext.x", source: "daemon", payload: { i } })}\n`);
    }
  }

  test("a torn last line is cut into quarantine and seq continues from the last good line", async () => {
    const file = join(dir, "events.jsonl");
    writeEvents(file, 5);
    appendFileSync(file, '{"v":1,"seq":6,"ts":"t","type":"ext.x","sou');
    const log = await openFresh(file);
    assert.equal(log.lastSeq, 5);
    assert.match(readFileSync(`${file}.q`, "utf8"), /"seq":6,"ts":"t","type":"ext.x","sou\n$/);
    const [r] = await log.append([{ type: "ext.after", payload: {} }]);
    assert.equal(r!.seq, 6);
    await log.close();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.equal(lines.length, 6);
    lines.forEach((l) => JSON.parse(l));
  });

  test("complete but unparseable lines at the end go too; bad lines in the middle stay", () => {
    const file = join(dir, "events.jsonl");
    writeEvents(file, 2);
    appendFileSync(file, "garbage in the middle\n");
    appendFileSync(file, `${JSON.stringify({ v: 1, seq: 3, ts: "t", type: "ext.x", source: "daemon", payload: {} })}\n`);
    appendFileSync(file, "tail garbage\n{\"half");
    const scan = scanLog(file);
    assert.equal(scan.lastSeq, 3);
    assert.equal(scan.badLinesKept, 1);
    assert.equal(scan.badLinesInTail, 1);
    const rep = cutTornTail(file, `${file}.q`, scan.goodEndBytes, scan.sizeBytes, scan.badLinesInTail);
    assert.equal(rep.truncatedBytes, "tail garbage\n{\"half".length);
    assert.match(readFileSync(file, "utf8"), /garbage in the middle/);
    assert.equal(readFileSync(`${file}.q`, "utf8"), 'tail garbage\n{"half\n');
  });

  test("an intact log is not touched", () => {
    const file = join(dir, "events.jsonl");
    writeEvents(file, 3);
    const before = readFileSync(file);
    const scan = scanLog(file);
    assert.equal(cutTornTail(file, `${file}.q`, scan.goodEndBytes, scan.sizeBytes, 0).truncatedBytes, 0);
    assert.deepEqual(readFileSync(file), before);
  });
});

describe("reading", () => {
  test("readRange from a seq via the index returns exactly the asked events", async () => {
    const file = join(dir, "events.jsonl");
    const log = await openFresh(file);
    for (let i = 0; i < 95; i++) await log.append([{ type: i % 2 ? "ext.odd" : "ext.even", payload: { i } }]);
    const from = 42;
    const got = await readRange(file, { fromSeq: from, limit: 5, startOffset: log.index.offsetFor(from) });
    assert.deepEqual(got.map((e) => e.seq), [42, 43, 44, 45, 46]);
    const odd = await readRange(file, { fromSeq: 1, limit: 3, type: "ext.odd" });
    assert.deepEqual(odd.map((e) => e.seq), [2, 4, 6]);
    const prefix = await readRange(file, { fromSeq: 90, limit: 100, type: "ext." });
    assert.equal(prefix.length, 6);
    await log.close();
  });

  test("the writer indexes each event at its line's first byte, in batches of multi-byte text too", async () => {
    const file = join(dir, "events.jsonl");
    const index = new SeqIndex(1);
    const log = await EventLog.open(file, { lastSeq: 0, eventCount: 0, sizeBytes: 0, index });
    const texts = ["a", "é", "日本語", "😀", "x\ny", "\u2028"];
    // One batch of many lines, then batches of one, so offsets carry over between commits.
    await Promise.all(texts.map((t, i) => log.append([{ type: "ext.text", payload: { t, i } }])));
    for (const t of texts) await log.append([{ type: "ext.text", payload: { t } }, { type: "ext.text", payload: { t: t + t } }]);
    const bytes = readFileSync(file);
    for (let seq = 1; seq <= log.lastSeq; seq++) {
      const at = index.offsetFor(seq);
      const line = bytes.subarray(at, bytes.indexOf(10, at)).toString("utf8");
      assert.equal((JSON.parse(line) as { seq: number }).seq, seq, `seq ${seq} at byte ${at}`);
    }
    assert.equal(log.stats().sizeBytes, bytes.length);
    await log.close();
  });

  test("a missing file reads as empty", async () => {
    assert.deepEqual(await readRange(join(dir, "nope.jsonl"), { fromSeq: 0, limit: 10 }), []);
    assert.equal(scanLog(join(dir, "nope.jsonl")).lastSeq, 0);
  });
});

test("the seq index finds the last indexed offset at or before a seq", () => {
  const idx = new SeqIndex(10);
  for (let s = 1; s <= 100; s++) idx.note(s, s * 100);
  assert.equal(idx.offsetFor(0), 0);
  assert.equal(idx.offsetFor(1), 100);
  assert.equal(idx.offsetFor(15), 1100);
  assert.equal(idx.offsetFor(1000), 9100);
  writeFileSync(join(dir, "x"), "");
});

/** A JSON value nested `depth` arrays deep: ~2 bytes a level, far under any size limit. */
function nested(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("values that cannot become a line", () => {
  test("a payload nested 5,000 deep is refused to its caller, and the writer goes on", async () => {
    const file = join(dir, "events.jsonl");
    const log = await openFresh(file);
    await assert.rejects(log.append([{ type: "ext.deep", payload: { v: nested(5_000) } }]), (err: Error & { code?: string }) => {
      assert.equal(err.code, "INVALID_ARGUMENT");
      assert.match(err.message, /nested too deeply/);
      return true;
    });
    // Neither the batch it would have joined nor the next one is held up.
    const [a, b] = await Promise.all([log.append([{ type: "ext.ok", payload: { n: 1 } }]), log.append([{ type: "ext.ok", payload: { n: 2 } }])]);
    assert.deepEqual([a[0]!.seq, b[0]!.seq], [1, 2]);
    await log.close();
    assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 2);
  });

  test("a payload JSON cannot serialise (a BigInt) or too large is refused, not written", async () => {
    const log = await openFresh(join(dir, "events.jsonl"));
    await assert.rejects(log.append([{ type: "ext.big", payload: { n: 10n } }]), /cannot be serialised/);
    await assert.rejects(log.append([{ type: "ext.huge", payload: { s: "x".repeat(2 * 1024 * 1024) } }]), /larger than/);
    assert.equal((await log.append([{ type: "ext.ok", payload: {} }]))[0]!.seq, 1);
    await log.close();
  });

  test("a line built from a pre-serialised payload is byte for byte JSON.stringify of the record", async () => {
    const file = join(dir, "events.jsonl");
    const log = await openFresh(file);
    const [rec] = await log.append([{ type: "ext.x", worker: "W1", session: 's"1', payload: { a: [1, "ü\n"], b: null } }]);
    await log.close();
    assert.equal(readFileSync(file, "utf8"), `${JSON.stringify(rec)}\n`);
  });

  test("a write that fails (the disk is full) rejects with IO and is reported while it lasts", async () => {
    // /dev/full fails every write with ENOSPC: the writer must answer IO, not hang or crash.
    const log = await EventLog.open("/dev/full", { lastSeq: 0, eventCount: 0, sizeBytes: 0, index: new SeqIndex() });
    await assert.rejects(log.append([{ type: "ext.a", payload: {} }]), (err: Error & { code?: string }) => {
      assert.equal(err.code, "IO");
      assert.match(err.message, /ENOSPC/);
      return true;
    });
    assert.equal(log.writeFailure?.errno, "ENOSPC");
    await assert.rejects(log.append([{ type: "ext.b", payload: {} }]), /ENOSPC/);
    assert.equal(log.lastSeq, 0, "no seq is used up by a failed write");
    await log.close();
  });
});
