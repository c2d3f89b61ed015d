// The writer's line encoder (src/eventlog/record.ts) quotes each envelope string once and reuses
// it: its lines must stay byte for byte `serializeEvent`'s, whatever the strings hold, however
// often they repeat, and after its bounded memory of them starts over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LineEncoder, serializeEvent } from "../../src/eventlog/record.js";
import type { EventRecord } from "../../src/protocol/events.js";

/** Strings JSON.stringify escapes, or must leave alone, in every way it can. */
const TRICKY = ["", "plain", 'q"uote', "back\\slash", "new\nline", "\u0000\u001f", "\u007f", "é", "日本", "😀", "\ud800", "x\udc00y", "\u2028\u2029", "</script>", "s".repeat(300)];

/** A record using `s` in some of its envelope strings, keys in the writer's order. */
function record(seq: number, s: string, i: number): EventRecord {
  return {
    v: 1,
    seq,
    ts: i % 2 ? s : "2026-11-28T04:50:00.000Z",
    type: i % 3 ? `ext.${i % 5}` : s,
    source: i % 4 ? "cli" : (s as EventRecord["source"]),
    ...(i % 2 ? { worker: s } : {}),
    ...(i % 3 === 0 ? { session: s } : {}),
    payload: { s, i },
  };
}

test("every line is serializeEvent's, byte for byte, the first time and every time after", () => {
  const enc = new LineEncoder();
  let seq = 0;
  for (let round = 0; round < 3; round++) {
    TRICKY.forEach((s, i) => {
      const r = record(++seq, s, i);
      assert.equal(enc.line(r, JSON.stringify(r.payload)), serializeEvent(r), JSON.stringify(s));
    });
  }
});

test("past the strings it keeps, the encoder starts over and its lines stay the same", () => {
  const enc = new LineEncoder();
  for (let seq = 1; seq <= 2_000; seq++) {
    const r: EventRecord = { v: 1, seq, ts: new Date(seq).toISOString(), type: "ext.a", source: "cli", session: `s"${seq % 700}`, payload: {} };
    assert.equal(enc.line(r, "{}"), serializeEvent(r));
  }
});
