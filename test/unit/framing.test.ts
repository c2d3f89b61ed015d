// Line framing: the same messages come out whatever the chunk boundaries, and the size limit holds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { frame, frameReply, LineSplitter, replyJson, withJsonText } from "../../src/rpc/framing.js";

function collect(max: number) {
  const lines: string[] = [];
  const tooLarge: number[] = [];
  const s = new LineSplitter(max, { line: (l) => lines.push(l), tooLarge: (n) => tooLarge.push(n) });
  return { s, lines, tooLarge };
}

test("messages split at every byte boundary come out whole, multi-byte UTF-8 included", () => {
  const msgs = [{ a: 1 }, { text: "héllo → 世界 🎉" }, { nested: { list: [1, 2, 3] } }];
  const bytes = Buffer.from(msgs.map(frame).join(""));
  for (let cut = 1; cut < bytes.length; cut++) {
    const { s, lines } = collect(1 << 20);
    s.push(bytes.subarray(0, cut));
    s.push(bytes.subarray(cut));
    assert.deepEqual(lines.map((l) => JSON.parse(l)), msgs, `cut at ${cut}`);
  }
  const { s, lines } = collect(1 << 20);
  for (const b of bytes) s.push(Buffer.from([b]));
  assert.deepEqual(lines.map((l) => JSON.parse(l)), msgs);
});

test("CRLF endings and blank lines are tolerated", () => {
  const { s, lines } = collect(100);
  s.push(Buffer.from('{"a":1}\r\n\n{"b":2}\n'));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
});

test("a line over the limit is reported once, whether it arrives whole or in pieces", () => {
  const whole = collect(10);
  whole.s.push(Buffer.from(`${"x".repeat(20)}\n{"after":1}\n`));
  assert.equal(whole.tooLarge.length, 1);
  assert.deepEqual(whole.lines, [], "nothing after the failure is delivered");
  const pieces = collect(10);
  for (let i = 0; i < 5; i++) pieces.s.push(Buffer.from("xxxx"));
  assert.equal(pieces.tooLarge.length, 1);
  assert.ok(pieces.s.pending === 0, "the oversized partial is not kept in memory");
});

test("a line of exactly the limit passes", () => {
  const { s, lines, tooLarge } = collect(10);
  s.push(Buffer.from(`${"y".repeat(10)}\n`));
  assert.deepEqual(lines, ["y".repeat(10)]);
  assert.equal(tooLarge.length, 0);
});

test("a reply framed by hand is the line JSON.stringify makes of it, whatever its id and result", () => {
  const replies = [
    { jsonrpc: "2.0", id: 7, result: { seq: 12 } },
    { jsonrpc: "2.0", id: -0.5, result: [1, "two", null] },
    { jsonrpc: "2.0", id: 'quote"and\u2028sep', result: "é\n" },
    { jsonrpc: "2.0", id: null, result: null },
    { jsonrpc: "2.0", id: 1e21, result: { nested: { a: [{}] } } },
    { jsonrpc: "2.0", id: 3, result: false },
    { jsonrpc: "2.0", id: 4, error: { code: -32601, message: "Method not found" } },
    { jsonrpc: "2.0", id: 5, error: { code: -32602, message: "bad", data: { issues: [] } } },
  ] as const;
  for (const r of replies) assert.equal(frameReply(r as never), frame(r), JSON.stringify(r));
});

test("a result whose JSON was made ahead is sent as that JSON; a copy of it is serialised afresh", () => {
  // Whitespace the serialiser would not make shows which text went out.
  const result = withJsonText({ events: [{ seq: 1 }] }, '{"events":[ {"seq":1} ]}');
  assert.equal(frameReply({ jsonrpc: "2.0", id: 9, result }), '{"jsonrpc":"2.0","id":9,"result":{"events":[ {"seq":1} ]}}\n');
  assert.equal(replyJson({ jsonrpc: "2.0", id: "b", result }), '{"jsonrpc":"2.0","id":"b","result":{"events":[ {"seq":1} ]}}');
  assert.equal(replyJson({ jsonrpc: "2.0", id: 9, result: { ...result } }), '{"jsonrpc":"2.0","id":9,"result":{"events":[{"seq":1}]}}');
});
