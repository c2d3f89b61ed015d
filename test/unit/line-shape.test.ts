// readLineShape: a line's depth and batch size read without parsing it, and values nested past
// the collapse depth replaced by [], naming the entries they were in (the server refuses those
// unrun: test/integration/rpc-collapsed-lines.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { exceedsDepth } from "../../src/protocol/json-bounds.js";
import { readLineShape } from "../../src/rpc/line-shape.js";

const limits = { maxDepth: 1_000, collapseDepth: 20, maxBatchEntries: 10 };
const nested = (d: number, inner = "1") => `${"[".repeat(d)}${inner}${"]".repeat(d)}`;
const depthOf = (v: unknown): number => {
  let d = 0;
  while (exceedsDepth(v, d)) d++;
  return d;
};

test("a short line is handed back as it is", () => {
  const text = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  assert.deepEqual(readLineShape(text, limits), { tooDeep: false, oversizeBatchEntries: 0, text, collapsed: null });
});

test("a line nested past the limit is too deep, and one at the limit is not", () => {
  assert.equal(readLineShape(nested(1_001), limits).tooDeep, true);
  assert.equal(readLineShape(nested(1_000), limits).tooDeep, false);
  assert.equal(readLineShape(`{"a":${nested(999)}}`, limits).tooDeep, false);
});

test("values nested past the collapse depth become [], leaving the line exactly as deep as that", () => {
  const text = `{"id":"x","params":{"a":${nested(500)},"b":"keep [ me","c":${nested(3)}},"after":2}`;
  const shape = readLineShape(text, limits);
  assert.equal(shape.tooDeep, false);
  const parsed = JSON.parse(shape.text) as { id: string; params: { b: string; c: unknown }; after: number };
  assert.equal(depthOf(parsed), limits.collapseDepth, "still deeper than anything shallower than the collapse depth");
  assert.equal(parsed.params.b, "keep [ me");
  assert.deepEqual(parsed.params.c, [[[1]]]);
  assert.equal(parsed.after, 2);
  assert.ok(shape.text.length < 200);
});

test("a line shallower than the collapse depth is parsed as sent", () => {
  const text = JSON.stringify({ jsonrpc: "2.0", id: "a", method: "m", params: { pad: "x".repeat(300), deep: JSON.parse(nested(17)) } });
  assert.equal(readLineShape(text, limits).text, text);
});

test("brackets and escaped quotes inside strings are not counted", () => {
  const tricky = `"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\"`;
  const text = `[${Array.from({ length: 30 }, () => tricky).join(",")}]`;
  JSON.parse(text); // valid
  const shape = readLineShape(text, limits);
  assert.equal(shape.text, text, "nothing collapsed");
  assert.equal(shape.oversizeBatchEntries, 30, "30 entries, counted only at the top");
});

test("a batch's entries are counted at the top level only; a batch within the limit, or an object, counts none", () => {
  const entry = '{"jsonrpc":"2.0","id":"a,b","method":"ping","params":{"x":[1,2,3]}}';
  assert.equal(readLineShape(` [${Array(11).fill(entry).join(",")}]`, limits).oversizeBatchEntries, 11);
  assert.equal(readLineShape(`[${Array(10).fill(entry).join(",")}]`, limits).oversizeBatchEntries, 0);
  assert.equal(readLineShape(`{${Array.from({ length: 40 }, (_, i) => `"k${i}":1`).join(",")}}`, limits).oversizeBatchEntries, 0);
});

test("a line cut short inside a collapsed value is handed back whole, to get its parse error", () => {
  const text = `{"a":${"[".repeat(100)}`;
  assert.equal(readLineShape(text, limits).text, text);
  const unclosedOuter = `{"a":${nested(100)}`;
  assert.throws(() => JSON.parse(readLineShape(unclosedOuter, limits).text), SyntaxError);
});

test("a collapse names the entry it was in: its index in a batch, 0 in a line that is not one", () => {
  assert.deepEqual(readLineShape(`{"id":1,"x":${nested(40)}}`, limits).collapsed, new Set([0]));
  const entry = (d: number) => `{"id":1,"p":${nested(d)},"q":[1,2]}`;
  assert.deepEqual(readLineShape(`[${entry(2)},${entry(40)},${entry(3)},${entry(30)}]`, limits).collapsed, new Set([1, 3]));
  assert.equal(readLineShape(`[${entry(2)},${entry(3)}]${" ".repeat(100)}`, limits).collapsed, null);
});

test("only JSON whitespace may come before a batch: a line led by another space is not counted as one", () => {
  const batch = `[${Array(11).fill("1").join(",")}]`;
  assert.equal(readLineShape(` \t\r\n${batch}`, limits).oversizeBatchEntries, 11);
  assert.equal(readLineShape(`\u00a0${batch}`, limits).oversizeBatchEntries, 0, "NBSP: not JSON, answered by the parse");
  assert.equal(readLineShape(`\ufeff${batch}`, limits).oversizeBatchEntries, 0, "a BOM: not JSON either");
});
