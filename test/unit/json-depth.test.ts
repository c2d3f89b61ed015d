// The depth bound of parsed values (src/protocol/json-bounds.ts): the walk recurses up to a
// bound and uses a stack of its own past it; both answer alike at every edge, count own keys only
// (as Object.values does), and end on a cycle.
import assert from "node:assert/strict";
import { test } from "node:test";
import { exceedsDepth } from "../../src/protocol/json-bounds.js";

const objects = (levels: number): unknown => (levels === 0 ? 1 : { k: objects(levels - 1) });
function arrays(levels: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

test("a value of exactly the limit passes and one level more does not, objects and arrays alike", () => {
  for (const limit of [1, 2, 63, 64, 256, 257, 1_000]) {
    for (const make of [objects, arrays]) {
      assert.equal(exceedsDepth(make(limit), limit), false, `${make.name} ${limit}`);
      assert.equal(exceedsDepth(make(limit + 1), limit), true, `${make.name} ${limit + 1}`);
    }
  }
  assert.equal(exceedsDepth(arrays(100_000), 64), true);
  assert.equal(exceedsDepth(arrays(100_000), 10_000), true);
  assert.equal(exceedsDepth("s", 0), false);
  assert.equal(exceedsDepth(null, 0), false);
  // Depth, not count: wide siblings do not add up.
  assert.equal(exceedsDepth({ a: Array.from({ length: 1000 }, () => ({ b: [1] })) }, 4), false);
});

test("only own keys count, and a cycle is too deep rather than endless", () => {
  const proto = { inherited: objects(10) };
  const v = Object.create(proto) as Record<string, unknown>;
  v.own = 1;
  for (const limit of [5, 500]) assert.equal(exceedsDepth(v, limit), false, `limit ${limit}`);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const limit of [64, 500]) assert.equal(exceedsDepth(cycle, limit), true, `limit ${limit}`);
});
