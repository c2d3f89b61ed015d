// Log rotation: the adaptive check delay (pure) and one rotation on real temp files — only the tail
// is kept, however far over the limit the file grew, and older copies shift and drop off.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { CHECK_MAX_MS, CHECK_MIN_MS, LogRotator, nextCheckDelayMs } from "../../daemon/workers/log-rotator.js";
import { rotateLog } from "../../daemon/workers/rotate-log.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-rot-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("the check delay doubles up to the maximum while nothing grows, and shrinks for fast writers", () => {
  assert.equal(nextCheckDelayMs(CHECK_MIN_MS, 0, 65_536), CHECK_MIN_MS * 2);
  assert.equal(nextCheckDelayMs(CHECK_MAX_MS, 0, 65_536), CHECK_MAX_MS, "idle stays at one check per CHECK_MAX_MS");
  assert.equal(nextCheckDelayMs(CHECK_MAX_MS, 10, 65_536), CHECK_MAX_MS, "a trickle is not checked more often");
  assert.equal(nextCheckDelayMs(2_000, 65_536, 65_536), 1_000, "half the limit's worth of time at the seen rate");
  assert.equal(nextCheckDelayMs(CHECK_MAX_MS, 1e9, 65_536), CHECK_MIN_MS, "disk speed: the fastest check");
});

test("a file far over the limit keeps only its last maxBytes in .1, from a line start, saying what was dropped", async () => {
  const live = join(dir, "stdout.log");
  const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join("");
  writeFileSync(live, lines);
  assert.equal(await rotateLog(live, 1024, 2), lines.length);
  assert.equal(readFileSync(live).length, 0);
  const [header, ...kept] = readFileSync(`${live}.1`, "utf8").split("\n");
  const dropped = Number(/^\[cpwd: (\d+) earlier bytes dropped/.exec(header!)?.[1]);
  assert.ok(dropped > lines.length - 1024 && dropped <= lines.length - 1024 + 12, String(dropped));
  assert.equal(kept.join("\n"), lines.slice(dropped), "whole lines from the cut on, up to the end");
  assert.match(kept[0]!, /^line \d+$/);
  assert.equal(kept.at(-2), "line 199999");

  // No line break in reach: cut at the byte.
  const blob = Buffer.alloc(5 * 1024 * 1024, "a");
  blob.write("THE-END", blob.length - 7);
  writeFileSync(live, blob);
  await rotateLog(live, 1024, 2);
  const rotated = readFileSync(`${live}.1`, "utf8");
  assert.ok(rotated.endsWith(`]\n${"a".repeat(1017)}THE-END`));
});

test("a file up to twice the limit is kept whole: no gap in the history", async () => {
  const live = join(dir, "stdout.log");
  const body = Array.from({ length: 150 }, (_, i) => `${i}\n`).join("");
  writeFileSync(live, body);
  await rotateLog(live, Math.ceil(body.length / 1.5), 2);
  assert.equal(readFileSync(`${live}.1`, "utf8"), body);
});

test("rotations shift older copies and drop the oldest; a file within the limit is left alone", async () => {
  const live = join(dir, "stdout.log");
  for (const round of ["1", "2", "3"]) {
    writeFileSync(live, round.repeat(20));
    await rotateLog(live, 10, 2);
  }
  assert.deepEqual(readdirSync(dir).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2"]);
  assert.equal(readFileSync(`${live}.1`, "utf8"), "3".repeat(20));
  assert.equal(readFileSync(`${live}.2`, "utf8"), "2".repeat(20));
  writeFileSync(live, "small");
  assert.equal(await rotateLog(live, 10, 2), 5);
  assert.equal(readFileSync(live, "utf8"), "small");
  assert.equal(await rotateLog(join(dir, "missing.log"), 10, 2), 0);
});

test("a removed worker's logs get one last check, and idle() waits for it", async () => {
  const errors: unknown[] = [];
  const r = new LogRotator(100, 1, (e) => errors.push(e));
  writeFileSync(join(dir, "stderr.log"), "e".repeat(1000));
  r.add("W1", dir);
  r.remove("W1");
  await r.idle();
  assert.equal(readFileSync(join(dir, "stderr.log"), "utf8"), "");
  assert.ok(readFileSync(join(dir, "stderr.log.1"), "utf8").endsWith(`]\n${"e".repeat(100)}`));
  assert.deepEqual(errors, []);
  r.close();
});
