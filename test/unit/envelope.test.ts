// The request envelope check that runs before json-rpc-2.0 sees a message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isRequestEnvelope, replyId } from "../../src/rpc/envelope.js";

test("well-formed requests and notifications pass", () => {
  for (const ok of [
    { jsonrpc: "2.0", method: "ping" },
    { jsonrpc: "2.0", method: "ping", id: 1 },
    { jsonrpc: "2.0", method: "ping", id: "a", params: {} },
    { jsonrpc: "2.0", method: "ping", id: null, params: [] },
  ]) {
    assert.equal(isRequestEnvelope(ok), true, JSON.stringify(ok));
  }
});

test("anything else is refused, and the reply id is the request's when readable", () => {
  for (const bad of [null, 5, "s", [], {}, { jsonrpc: "1.0", method: "x" }, { jsonrpc: "2.0", method: 3 }, { jsonrpc: "2.0", method: "x", params: 1 }, { jsonrpc: "2.0", method: "x", id: {} }]) {
    assert.equal(isRequestEnvelope(bad), false, JSON.stringify(bad));
  }
  assert.equal(replyId({ id: 7 }), 7);
  assert.equal(replyId({ id: {} }), null);
  assert.equal(replyId(null), null);
});
