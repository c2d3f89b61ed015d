// When worker logs are checked for rotation: the adaptive check delay (pure), and the last check a
// removed worker's logs get.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { CHECK_MAX_MS, CHECK_MIN_MS, LogRotationScheduler, nextCheckDelayMs } from "../../daemon/supervisor/log-rotation-scheduler.js";
import { droppedHeader, rotated } from "../helpers/rotated-logs.js";

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

test("a removed worker's logs get one last check, and idle() waits for it", async () => {
  const errors: unknown[] = [];
  const r = new LogRotationScheduler(100, 1, (e) => errors.push(e));
  writeFileSync(join(dir, "stderr.log"), "e".repeat(1000));
  r.add("W1", dir);
  r.remove("W1");
  await r.idle();
  assert.equal(readFileSync(join(dir, "stderr.log"), "utf8"), "");
  const [only] = rotated(join(dir, "stderr.log"));
  assert.ok(only!.length <= 100);
  const { dropped, rest } = droppedHeader(only!)!;
  assert.equal(rest.toString(), "e".repeat(1000 - dropped));
  assert.deepEqual(errors, []);
  r.close();
});
