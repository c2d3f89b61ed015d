// A claim goes when the edit that took it did not happen (refused or failed), and stays whenever
// an edit of the file by its holder may have happened.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClaimTable } from "../../daemon/coordination/claims.js";
import type { EventInput } from "../../src/protocol/events.js";

function run(t: ClaimTable, events: EventInput[], now = 0): EventInput[] {
  for (const e of events) t.apply(e, now);
  return events;
}

test("the edit that took a claim was refused: the claim is released, with the reason", () => {
  const t = new ClaimTable(60_000);
  const [acquired] = run(t, t.decide("/r/np.txt", { worker: "W1", toolUseId: "toolu_a" }, 0).events);
  assert.equal(acquired!.payload.toolUseId, "toolu_a");
  const released = run(t, t.releaseUnmade("W1", "toolu_a", "the edit was refused"));
  assert.deepEqual(released, [{ type: "claim.released", worker: "W1", payload: { path: "/r/np.txt", reason: "the edit was refused" } }]);
  assert.equal(t.list(0).length, 0);
  assert.deepEqual(t.releaseUnmade("W1", "toolu_a", "again"), [], "told twice, released once");
});

test("another worker's refusal, or a tool call that took no claim, releases nothing", () => {
  const t = new ClaimTable(60_000);
  run(t, t.decide("/r/a.ts", { worker: "W1", toolUseId: "toolu_a" }, 0).events);
  assert.deepEqual(t.releaseUnmade("W2", "toolu_a", "x"), []);
  assert.deepEqual(t.releaseUnmade("W1", "toolu_bash", "x"), []);
  assert.equal(t.list(0).length, 1);
});

test("a second edit of the held file keeps the claim until it too is known not to have happened", () => {
  const t = new ClaimTable(60_000);
  run(t, t.decide("/r/a.ts", { worker: "W1", toolUseId: "toolu_a" }, 0).events);
  assert.deepEqual(t.decide("/r/a.ts", { worker: "W1", toolUseId: "toolu_b" }, 1).events, []);
  // The first edit's refusal arrives late; the second may have written the file.
  assert.deepEqual(t.releaseUnmade("W1", "toolu_a", "the edit was refused"), []);
  assert.equal(t.list(1).length, 1);
  assert.equal(run(t, t.releaseUnmade("W1", "toolu_b", "the edit failed")).length, 1);
  assert.equal(t.list(1).length, 0);
});

test("an edit without an id, or a claim from before a daemon restart, is kept until its worker ends", () => {
  const t = new ClaimTable(60_000);
  run(t, t.decide("/r/a.ts", { worker: "W1", toolUseId: "toolu_a" }, 0).events);
  t.decide("/r/a.ts", { worker: "W1" }, 1);
  assert.deepEqual(t.releaseUnmade("W1", "toolu_a", "x"), []);

  const restarted = new ClaimTable(60_000);
  run(restarted, [{ type: "claim.acquired", worker: "W1", payload: { path: "/r/b.ts", atMs: 0, toolUseId: "toolu_c" } }]);
  restarted.touchAll(10);
  assert.deepEqual(restarted.releaseUnmade("W1", "toolu_c", "x"), []);
  assert.equal(restarted.list(10).length, 1);
});
