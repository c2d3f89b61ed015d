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

test("a file far over the limit keeps only its last maxBytes in .1 and is truncated", async () => {
  const live = join(dir, "stdout.log");
  const body = Buffer.alloc(5 * 1024 * 1024, "a");
  body.write("THE-END", body.length - 7);
  writeFileSync(live, body);
  assert.equal(await rotateLog(live, 1024, 2), body.length);
  assert.equal(readFileSync(live).length, 0);
  const rotated = readFileSync(`${live}.1`, "utf8");
  assert.equal(rotated.length, 1024);
  assert.ok(rotated.endsWith("THE-END"));
});

test("rotations shift older copies and drop the oldest; a file within the limit is left alone", async () => {
  const live = join(dir, "stdout.log");
  for (const round of ["1", "2", "3"]) {
    writeFileSync(live, round.repeat(20));
    await rotateLog(live, 10, 2);
  }
  assert.deepEqual(readdirSync(dir).sort(), ["stdout.log", "stdout.log.1", "stdout.log.2"]);
  assert.equal(readFileSync(`${live}.1`, "utf8"), "3".repeat(10));
  assert.equal(readFileSync(`${live}.2`, "utf8"), "2".repeat(10));
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
  assert.equal(readFileSync(join(dir, "stderr.log.1"), "utf8").length, 100);
  assert.deepEqual(errors, []);
  r.close();
});
