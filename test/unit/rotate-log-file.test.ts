// Rotating one log file, on real temp files: every rotated file within the limit, the history split
// at line starts and kept in order up to `keep` files, what did not fit said so, and older copies
// shifting up and dropping off.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { rotateLog } from "../../daemon/supervisor/rotate-log-file.js";
import { droppedHeader, rotated } from "../helpers/rotated-logs.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-rot-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Lines of uneven length (so cuts do not fall on a pattern) until `bytes` is reached. */
function linesOf(bytes: number, tag = "line"): Buffer {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = `${tag} ${i} ${"x".repeat((i * 7919) % 301)}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join(""));
}

test("a 25 MiB file over a 10 MiB limit, keeping 3: no rotated file over the limit, every byte kept in order, cut at line starts", async () => {
  const MiB = 1024 * 1024;
  const live = join(dir, "stdout.log");
  const body = linesOf(25 * MiB);
  writeFileSync(live, body);
  assert.equal(await rotateLog(live, 10 * MiB, 3), body.length);
  assert.equal(readFileSync(live).length, 0);
  const pieces = rotated(live);
  assert.equal(pieces.length, 3);
  for (const [i, p] of pieces.entries()) {
    assert.ok(p.length <= 10 * MiB, `.${i + 1} is ${p.length} bytes`);
    assert.equal(p.at(-1), 10, `.${i + 1} ends at a line end`);
    assert.match(p.subarray(0, 5).toString(), /^line /, `.${i + 1} starts at a line start`);
    assert.equal(droppedHeader(p), null);
  }
  assert.ok(Buffer.concat(pieces.reverse()).equals(body), "oldest (.3) to newest (.1), the whole file");
  assert.deepEqual(readdirSync(dir).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2", "stdout.log.3"], "no temp file left");
  for (let i = 1; i <= 3; i++) assert.equal(statSync(`${live}.${i}`).mode & 0o777, 0o600, `.${i} is private`);
});

test("a file larger than keep × the limit: at most keep files within the limit, the oldest opening with how many bytes were dropped", async () => {
  const live = join(dir, "stdout.log");
  const lines = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join(""));
  writeFileSync(live, lines);
  assert.equal(await rotateLog(live, 1024, 2), lines.length);
  assert.equal(readFileSync(live).length, 0);
  const [newest, oldest] = rotated(live);
  assert.deepEqual(readdirSync(dir).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2"]);
  assert.ok(newest!.length <= 1024 && oldest!.length <= 1024, `${newest!.length}, ${oldest!.length}`);
  assert.equal(droppedHeader(newest!), null);
  const { dropped, rest } = droppedHeader(oldest!)!;
  assert.ok(dropped > lines.length - 2048 && dropped < lines.length - 2048 + 200, String(dropped));
  assert.ok(Buffer.concat([rest, newest!]).equals(lines.subarray(dropped)), "whole lines from the cut on, up to the end");
  assert.match(rest.toString(), /^line \d+\n/);
  assert.ok(newest!.toString().endsWith("line 199999\n"));
  assert.match(newest!.toString(), /^line \d+\n/, "the newest starts at a line start too");
});

test("with no line break in reach the cut falls mid-line, and the limit still holds", async () => {
  const live = join(dir, "stdout.log");
  const blob = Buffer.alloc(5 * 1024 * 1024, "a");
  blob.write("THE-END", blob.length - 7);
  writeFileSync(live, blob);
  await rotateLog(live, 1024, 2);
  const [newest, oldest] = rotated(live);
  assert.equal(newest!.toString(), `${"a".repeat(1017)}THE-END`);
  assert.ok(oldest!.length <= 1024);
  const { dropped, rest } = droppedHeader(oldest!)!;
  assert.equal(dropped + rest.length + newest!.length, blob.length, "what was dropped, said, plus what was kept is the file");
});

test("each rotation shifts older copies up past its new pieces and deletes those beyond keep; a file within the limit is left alone", async () => {
  const live = join(dir, "stdout.log");
  for (const round of ["1", "2", "3"]) {
    writeFileSync(live, round.repeat(15)); // two pieces: 5 bytes, then the last 10
    await rotateLog(live, 10, 4);
  }
  assert.deepEqual(readdirSync(dir).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2", "stdout.log.3", "stdout.log.4"]);
  assert.deepEqual(
    rotated(live).map((b) => b.toString()),
    ["3".repeat(10), "3".repeat(5), "2".repeat(10), "2".repeat(5)],
  );
  writeFileSync(live, "small");
  assert.equal(await rotateLog(live, 10, 4), 5);
  assert.equal(readFileSync(live, "utf8"), "small");
  assert.equal(await rotateLog(join(dir, "missing.log"), 10, 2), 0);
});

test("bytes written during the copy go into the newest pieces, each within the limit, in order after the rest", async () => {
  const live = join(dir, "stdout.log");
  const limit = 256 * 1024;
  const initial = linesOf(1.5 * limit);
  writeFileSync(live, initial);
  const written = [initial];
  // A worker writing whole lines while the rotation copies (between its reads and writes).
  let writing = true;
  let k = 0;
  const write = () => {
    if (!writing) return;
    const chunk = linesOf(20 * 1024, `during-${k++}`);
    appendFileSync(live, chunk);
    written.push(chunk);
    setImmediate(write);
  };
  setImmediate(write);
  await rotateLog(live, limit, 10);
  writing = false;
  const all = Buffer.concat(written);
  const pieces = rotated(live).reverse();
  const kept = Buffer.concat(pieces);
  for (const p of pieces) {
    assert.ok(p.length <= limit, `a piece of ${p.length} bytes`);
    assert.equal(p.at(-1), 10, "pieces end at line ends");
  }
  assert.ok(kept.equals(all.subarray(0, kept.length)), "the pieces hold the file from its start, in order, without gaps");
  assert.ok(kept.length > initial.length, "something written during the copy was caught up");
  assert.ok(pieces.length > 2, "the catch-up opened pieces of its own once the newest was full");
  // What the truncate did not lose is in the live file; nothing is there twice.
  const rest = readFileSync(live);
  assert.ok(rest.length === 0 || all.indexOf(rest) >= kept.length);
});
