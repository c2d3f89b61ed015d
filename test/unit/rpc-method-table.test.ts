// The daemon's method table (daemon/rpc-table.ts) answers as json-rpc-2.0's server did, and the
// events.append fast path (daemon/core-handlers.ts) hands a handler exactly what the schema would
// and refuses exactly what it refuses, with the schema's words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCRequest } from "json-rpc-2.0";
import { z } from "zod";
import { isPlainAppendParams } from "../../daemon/core-handlers.js";
import { bindGroup, buildRpcServer, type CallInfo } from "../../daemon/rpc-table.js";
import { coreMethods } from "../../src/protocol/rpc-core.js";

const quiet = { warn() {}, error() {}, info() {}, debug() {} } as never;
const call: CallInfo = { connectionId: 1 };

test("the method table answers every kind of request as json-rpc-2.0's server does", async () => {
  const handlers: Record<string, (p: unknown) => unknown> = {
    "t.echo": (p) => p,
    "t.nothing": () => undefined,
    "t.async": async (p) => ({ got: p }),
    "t.refuse": () => {
      throw new JSONRPCErrorException("no", -32042, { code: "NOPE" });
    },
    "t.reject": () => Promise.reject(new JSONRPCErrorException("later no", -32043)),
  };
  const library = new JSONRPCServer<CallInfo>({ errorListener: () => {} });
  for (const [name, h] of Object.entries(handlers)) library.addMethod(name, h);
  const specs = Object.fromEntries(Object.keys(handlers).map((n) => [n, { summary: "", params: z.unknown(), result: z.unknown() }]));
  const table = buildRpcServer([bindGroup({ specs, handlers } as never)], quiet);
  const requests: unknown[] = [
    { jsonrpc: "2.0", id: 1, method: "t.echo", params: { a: [1, 2] } },
    { jsonrpc: "2.0", id: "s", method: "t.echo" },
    { jsonrpc: "2.0", id: null, method: "t.echo", params: [3] },
    { jsonrpc: "2.0", id: 2, method: "t.nothing" },
    { jsonrpc: "2.0", id: 3, method: "t.async", params: { x: 1 } },
    { jsonrpc: "2.0", id: 4, method: "t.refuse" },
    { jsonrpc: "2.0", id: 5, method: "t.reject" },
    { jsonrpc: "2.0", id: 6, method: "no.such" },
    { jsonrpc: "2.0", id: 7, method: "t.echo", result: 1 },
    { jsonrpc: "2.0", id: 8, method: "t.echo", error: { code: 1 } },
    { jsonrpc: "2.0", method: "t.echo", params: {} },
    { jsonrpc: "2.0", method: "t.refuse" },
    { jsonrpc: "2.0", method: "no.such" },
    { jsonrpc: "2.0", id: 9, method: "__proto__" },
  ];
  for (const r of requests) {
    assert.deepEqual(await table.receive(r as JSONRPCRequest, call), await library.receive(r as JSONRPCRequest, call), JSON.stringify(r));
  }
});

/** Params a client might send to events.append, good and bad, around each edge of the schema. */
function appendCases(): unknown[] {
  const nest = (levels: number): unknown => (levels === 0 ? 1 : { k: nest(levels - 1) });
  const nestArr = (levels: number): unknown => (levels === 0 ? 1 : [nestArr(levels - 1)]);
  const withProto = JSON.parse('{"type":"ext.a","payload":{"__proto__":{"x":1}}}');
  return [
    { type: "ext.bench", payload: { c: 1, n: 2 } },
    { type: "ext.a", payload: {} },
    { type: `ext.${"a".repeat(64)}`, payload: {} },
    { type: `ext.${"a".repeat(65)}`, payload: {} },
    { type: "ext.A", payload: {} },
    { type: "ext._a", payload: {} },
    { type: "ext.a-b.c_d9", payload: { s: "é\u2028", a: [null, true, { b: [] }] } },
    { type: "ext.a\n", payload: {} },
    { type: "not-ext", payload: {} },
    { type: 5, payload: {} },
    { type: "ext.a" },
    { type: "ext.a", payload: null },
    { type: "ext.a", payload: [1] },
    { type: "ext.a", payload: "x" },
    { type: "ext.a", payload: {}, worker: "W1", session: "s" },
    { type: "ext.a", payload: {}, worker: "w".repeat(64) },
    { type: "ext.a", payload: {}, worker: "w".repeat(65) },
    { type: "ext.a", payload: {}, session: "s".repeat(200) },
    { type: "ext.a", payload: {}, session: "s".repeat(201) },
    { type: "ext.a", payload: {}, worker: 3 },
    { type: "ext.a", payload: {}, worker: null },
    { type: "ext.a", payload: {}, extra: 1 },
    withProto,
    { type: "ext.a", payload: { d: nest(60) } },
    { type: "ext.a", payload: { d: nest(61) } },
    { type: "ext.a", payload: { d: nest(62) } },
    { type: "ext.a", payload: { d: nestArr(61) } },
    { type: "ext.a", payload: { d: nestArr(62) } },
    [],
    null,
    undefined,
    "x",
  ];
}

test("events.append's fast path takes only params its schema takes unchanged", () => {
  const schema = coreMethods["events.append"].params;
  let taken = 0;
  for (const p of appendCases()) {
    if (!isPlainAppendParams(p)) continue;
    taken++;
    const parsed = schema.safeParse(p);
    assert.ok(parsed.success, JSON.stringify(p));
    assert.deepEqual(parsed.data, p);
  }
  assert.ok(taken >= 8, `the fast path took ${taken} of the good cases`);
});

test("events.append answers the same with and without its fast path, errors word for word", async () => {
  const specs = { "events.append": coreMethods["events.append"] };
  const handlers = { "events.append": (p: unknown) => ({ seq: 1, got: p }) };
  const fast = buildRpcServer([bindGroup({ specs, handlers, fastParams: { "events.append": isPlainAppendParams } } as never)], quiet);
  const slow = buildRpcServer([bindGroup({ specs, handlers } as never)], quiet);
  for (const [i, params] of appendCases().entries()) {
    const req = { jsonrpc: "2.0", id: i, method: "events.append", ...(params === undefined ? {} : { params }) } as JSONRPCRequest;
    assert.deepEqual(await fast.receive(req, call), await slow.receive(req, call), JSON.stringify(params));
  }
});
