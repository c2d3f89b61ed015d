// The snapshot's fallback ids end at a drain: once the fallback files read so far are deleted,
// their records cannot come again, so their ids are no longer kept (nor restored from an older
// snapshot by a start that folds the drain after it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { StateSnapshot } from "../../daemon/state-snapshot.js";
import { EVENT_VERSION, type EventRecord } from "../../src/protocol/events.js";

const ts = "2026-01-01T00:00:00.000Z";

function fallbackEvent(seq: number, fid: string): EventRecord {
  return { v: EVENT_VERSION, seq, ts, type: "hook.Stop", source: "fallback", session: "s", payload: { fallbackId: fid } };
}

function drained(seq: number): EventRecord {
  return { v: EVENT_VERSION, seq, ts, type: "fallback.ingested", source: "daemon", payload: { count: 0, skippedDuplicates: 0, badLines: 0, quarantined: 0, drained: 1 } };
}

test("a drain forgets the fallback ids read before it and keeps those read after", () => {
  const state = new StateSnapshot(3_600_000);
  state.apply(fallbackEvent(1, "a"));
  state.apply(fallbackEvent(2, "b"));
  state.apply(drained(3));
  state.apply(fallbackEvent(4, "c"));
  assert.deepEqual([...state.seenFallbackCopy()], ["c"]);
  assert.deepEqual(state.content(4).meta.fallbackIds, ["c"]);
});

test("a report of an ingest without a drain forgets nothing", () => {
  const state = new StateSnapshot(3_600_000);
  state.apply(fallbackEvent(1, "a"));
  state.apply({ ...drained(2), payload: { count: 1, skippedDuplicates: 0, badLines: 0 } });
  assert.deepEqual([...state.seenFallbackCopy()], ["a"]);
});

test("a start from a snapshot takes its ids, unless a drain came after the snapshot", () => {
  const plain = new StateSnapshot(3_600_000);
  plain.apply(fallbackEvent(6, "c"));
  plain.takeMeta({ fallbackIds: ["a", "b"] });
  assert.deepEqual([...plain.seenFallbackCopy()].sort(), ["a", "b", "c"]);

  const drainedAfter = new StateSnapshot(3_600_000);
  drainedAfter.apply(drained(5));
  drainedAfter.apply(fallbackEvent(6, "c"));
  drainedAfter.takeMeta({ fallbackIds: ["a", "b"] });
  assert.deepEqual([...drainedAfter.seenFallbackCopy()], ["c"]);
});
