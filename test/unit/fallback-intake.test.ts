// The fallback intake: what a shim appends while the daemon starts is taken in, even when it lands
// after the start-up ingest and before the watch begins (found by the kill -9 chaos scenario).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "pino";
import { FallbackIntake } from "../../daemon/fallback-intake.js";
import type { EventLog } from "../../src/eventlog/append.js";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { resolvePaths } from "../../src/platform/paths.js";
import type { EventInput } from "../../src/protocol/events.js";
import { waitFor } from "../helpers/daemon.js";

test("a line appended between the start-up ingest and the watch is ingested without another append", async () => {
  const home = mkdtempSync(join(tmpdir(), "cpwd-intake-"));
  const paths = resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: 0 });
  const written: EventInput[] = [];
  const log = { append: async (inputs: EventInput[]) => void written.push(...inputs) } as unknown as EventLog;
  const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
  const intake = new FallbackIntake({ paths, log, seen: new Set(), logger: quiet });
  try {
    appendFallback(paths.fallback, { type: "hook.Stop", session: "s", payload: { n: 1 } });
    await intake.ingest();
    // The daemon is not listening yet: a shim falls back, after the ingest and before the watch.
    appendFallback(paths.fallback, { type: "hook.Stop", session: "s", payload: { n: 2 } });
    intake.watch();
    await waitFor("the second line to be ingested", () => written.filter((e) => e.type === "hook.Stop").length === 2, 3_000);
    assert.deepEqual(written.filter((e) => e.type === "hook.Stop").map((e) => e.payload.n), [1, 2]);
  } finally {
    await intake.close();
    rmSync(home, { recursive: true, force: true });
  }
});
