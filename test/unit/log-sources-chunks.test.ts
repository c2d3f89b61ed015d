// Reading logs a chunk at a time (cli/log-sources.ts, cli/log-printers.ts): lines cut by a chunk's
// edge come back whole, read backwards or forwards, and several sources bigger than a chunk merge
// in time order as a sort of all their lines would put them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { MergedPrinter, type View } from "../../cli/log-printers.js";
import { CHUNK_BYTES, linesBackward, TimelineSource } from "../../cli/log-sources.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-log-chunks-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A Writable that keeps what it is given. */
function collector(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString() };
}

test("lines read backwards come back whole, with their offsets, across chunks and a line longer than one", () => {
  const lines = ["", "a", "x".repeat(CHUNK_BYTES + 10), ...Array.from({ length: 40_000 }, (_, i) => `line ${i} ${"y".repeat(i % 97)}`)];
  for (const ending of ["\n", ""]) {
    const file = join(dir, `back${ending ? "-nl" : ""}`);
    const text = lines.join("\n") + ending;
    writeFileSync(file, text);
    const got = [...linesBackward(file, Buffer.byteLength(text))].reverse();
    assert.deepEqual(got.map((l) => l.bytes.toString()), lines);
    let at = 0;
    for (const [i, l] of got.entries()) {
      assert.equal(l.at, at, `line ${i}'s offset`);
      at += lines[i]!.length + 1;
    }
  }
});

test("the last lines of a rare stream are found more than a chunk back, read a chunk at a time", () => {
  const file = join(dir, "rare.log");
  const records = ["1 e+ fir", "2 e st", "3 e second", ...Array.from({ length: 60_000 }, (_, i) => `${4 + i} o ${"z".repeat(i % 80)}`)];
  writeFileSync(file, `${records.join("\n")}\n`);
  const src = new TimelineSource(file, new Set(["stderr"]), { lines: 2, raw: false });
  const got: string[] = [];
  let calls = 0;
  for (let batch = src.initial(); batch !== null; batch = src.initial()) {
    calls++;
    got.push(...batch.map((l) => `${l.ms} ${l.bytes.toString()}`));
  }
  assert.deepEqual(got, ["2 first", "3 second"], "the line in pieces whole, from its first piece");
  assert.ok(calls > 1, "more than one chunk read");
});

test("two sources bigger than a chunk merge in time order; -n keeps the last lines of the merge", () => {
  const [a, b] = [join(dir, "a.log"), join(dir, "b.log")];
  const n = 50_000;
  // a has the even times, b the odd ones: merged, the times run 0, 1, 2…
  writeFileSync(a, Array.from({ length: n }, (_, i) => `${2 * i} o a${2 * i} ${"p".repeat(i % 50)}\n`).join(""));
  writeFileSync(b, Array.from({ length: n }, (_, i) => `${2 * i + 1} o b${2 * i + 1} ${"q".repeat(i % 50)}\n`).join(""));
  const view: View = { lines: null, render: false, ownTimes: false, timestamps: false, raw: false };
  const print = (lines: number | null) => {
    const out = collector();
    const entries = [a, b].map((file) => ({ source: new TimelineSource(file, new Set(["stdout"] as const), { lines, raw: false }), view, prefix: "", out: out.stream, err: out.stream }));
    new MergedPrinter(entries, lines).flush();
    return out.text().trimEnd().split("\n").map((l) => Number(l.slice(1, l.indexOf(" "))));
  };
  const all = print(null);
  assert.equal(all.length, 2 * n);
  assert.ok(all.every((t, i) => t === i), "in time order");
  assert.deepEqual(print(5), [2 * n - 5, 2 * n - 4, 2 * n - 3, 2 * n - 2, 2 * n - 1]);
});
