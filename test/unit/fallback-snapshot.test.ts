// The fallback intake and the snapshot keep their own sets of fallback ids: a rotation while an
// ingest's append is in flight (or failing) writes only the ids of durable events, so a crash
// before the retry does not pass over the record for good.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "pino";
import { openEventLog } from "../../daemon/open-event-log.js";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { ingestFallback } from "../../src/eventlog/ingest.js";
import { resolvePaths } from "../../src/platform/paths.js";
import type { EventInput } from "../../src/protocol/events.js";

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

test("a snapshot taken while a fallback record's append fails holds only the ids of durable events", async () => {
  const home = mkdtempSync(join(tmpdir(), "cpwd-fallback-snap-"));
  const paths = resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: 0 });
  const opened = await openEventLog(paths, "test", quiet);
  try {
    const first = appendFallback(paths.fallback, { type: "hook.Stop", session: "s", payload: { n: 1 } });
    await ingestFallback(paths.fallback, `${paths.fallback}.offset`, paths.quarantine, opened.seenFallback, (inputs) => opened.log.append(inputs));
    const second = appendFallback(paths.fallback, { type: "hook.Stop", session: "s", payload: { n: 2 } });
    let idsDuringAppend: unknown;
    const failing = async (_inputs: EventInput[]) => {
      // A rotation now: its snapshot is the state at the last durable seq.
      idsDuringAppend = opened.state.content(opened.log.stats().eventCount).meta.fallbackIds;
      throw new Error("disk full");
    };
    await assert.rejects(ingestFallback(paths.fallback, `${paths.fallback}.offset`, paths.quarantine, opened.seenFallback, failing));
    assert.deepEqual(idsDuringAppend, [first.fid], `the snapshot holds ${second.fid} before its event is durable`);
    // The retry takes it in, and then the snapshot has it.
    const r = await ingestFallback(paths.fallback, `${paths.fallback}.offset`, paths.quarantine, opened.seenFallback, (inputs) => opened.log.append(inputs));
    assert.equal(r.count, 1);
    assert.deepEqual(opened.state.content(0).meta.fallbackIds, [first.fid, second.fid]);
  } finally {
    await opened.log.close();
    rmSync(home, { recursive: true, force: true });
  }
});
