// Durations that become timers are bounded where they enter (found by the hostile-clients chaos
// scenario): Node fires a timer set past 2³¹−1 ms after 1 ms, so a backoff of 2⁵³ ms restarted a
// worker at once, over and over, and a huge default grace would SIGKILL at once.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/platform/config.js";
import { MAX_BACKOFF_MS, WorkerSpecSchema } from "../../src/protocol/workers.js";

const TIMER_MAX_MS = 2 ** 31 - 1;
const restart = { mode: "always", maxRestarts: 5, windowMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 0 };
const spec = (over: Record<string, unknown>) => ({ argv: ["x"], cwd: "/", env: {}, restart: { ...restart, ...over } });

test("a backoff longer than a day is refused at the boundary, and a day fits in a timer", () => {
  assert.ok(MAX_BACKOFF_MS <= TIMER_MAX_MS);
  for (const field of ["backoffBaseMs", "backoffMaxMs"]) {
    const r = WorkerSpecSchema.safeParse(spec({ [field]: Number.MAX_SAFE_INTEGER }));
    assert.equal(r.success, false, `${field} 2^53-1 is refused`);
    assert.deepEqual(r.error!.issues[0]!.path, ["restart", field]);
    assert.equal(WorkerSpecSchema.safeParse(spec({ [field]: MAX_BACKOFF_MS })).success, true, `${field} of a day is taken`);
  }
});

test("a default grace longer than a day in config.json is refused by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-bounds-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ defaultGraceMs: Number.MAX_SAFE_INTEGER }));
    assert.throws(() => loadConfig(file), /defaultGraceMs/);
    writeFileSync(file, JSON.stringify({ defaultGraceMs: 24 * 3600_000 }));
    assert.equal(loadConfig(file).defaultGraceMs, 24 * 3600_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
