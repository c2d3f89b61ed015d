// A line's nesting read without parsing it (found by the hostile-clients chaos scenario: parsing a
// 100,000-level line held the daemon for tens of milliseconds, every other client waiting).
import assert from "node:assert/strict";
import { test } from "node:test";
import { textExceedsDepth } from "../../src/protocol/json-bounds.js";

test("depth is counted over arrays and objects, and brackets inside strings do not count", () => {
  const deep = (d: number) => `${"[".repeat(d)}${"]".repeat(d)}`;
  assert.equal(textExceedsDepth(deep(20), 20), false);
  assert.equal(textExceedsDepth(deep(21), 20), true);
  assert.equal(textExceedsDepth(`${'{"a":'.repeat(30)}1${"}".repeat(30)}`, 20), true);
  // Brackets in strings, escaped quotes and backslashes included, are text.
  const inString = JSON.stringify({ s: `${"[{".repeat(50)}\\"\\\\"`, t: '"[[[[[[' });
  assert.equal(textExceedsDepth(inString, 2), false);
  assert.equal(textExceedsDepth(`[${inString},${deep(3)}]`, 3), true);
  // Siblings do not add up: depth, not count.
  assert.equal(textExceedsDepth(`[${Array(100).fill("[[]]").join(",")}]`, 3), false);
});
