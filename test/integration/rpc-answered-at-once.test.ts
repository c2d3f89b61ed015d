// The RPC server with method logic that answers through `answer` (as the daemon's method table
// does): a call answered at once, inside the line's handling, is counted as answered, so a client
// pipelining far more calls than may be pending on a connection still gets every one answered,
// once, those answered later (by a promise) among them (replies to single calls may come in any
// order: their ids tell them apart); a notification answered with null gets no reply; and method
// logic that throws is answered Internal error.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, describe, test } from "node:test";
import type { JSONRPCRequest, JSONRPCResponse } from "json-rpc-2.0";
import type { RpcServerOptions } from "../../src/rpc/server.js";
import { tempHome } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";
import { withRpcServer } from "../helpers/rpc-server.js";

type Reply = { id: unknown; result?: unknown; error?: { code: number; message: string } };

/** `now` answers at once, `later` once a promise settles, `boom` throws; `receive` is never used. */
const rpc: RpcServerOptions["rpc"] = {
  receive: () => Promise.reject(new Error("receive was called; answer should have been")),
  answer(request: JSONRPCRequest, _info, reply: (r: JSONRPCResponse | null) => void) {
    const id = request.id;
    if (request.method === "boom") throw new Error("a bug in the method logic");
    const response: JSONRPCResponse | null = id === undefined ? null : { jsonrpc: "2.0", id, result: request.method };
    if (request.method === "later") void Promise.resolve().then(() => reply(response));
    else reply(response);
  },
};

describe("an RPC server whose method logic answers at once", () => {
  const dir = tempHome("cpwd-rpc-at-once-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("answers each of 500 pipelined calls once, on a connection that may have 2 pending", async () => {
    await withRpcServer({ dir, name: "now", rpc, maxPendingCallsPerConnection: 2, linesPerTurn: 8 }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      try {
        const methods = Array.from({ length: 500 }, (_, i) => (i % 7 === 3 ? "later" : "now"));
        c.send(methods.map((m, i) => `{"jsonrpc":"2.0","id":${i},"method":"${m}"}\n`).join(""));
        const replies: Reply[] = [];
        for (let i = 0; i < methods.length; i++) replies.push((await c.next()) as Reply);
        replies.sort((a, b) => (a.id as number) - (b.id as number));
        assert.deepEqual(replies, methods.map((m, i) => ({ jsonrpc: "2.0", id: i, result: m })));
      } finally {
        c.close();
      }
    });
  });

  test("a notification gets no reply, and a throw is answered Internal error", async () => {
    await withRpcServer({ dir, name: "edge", rpc }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      try {
        c.send('{"jsonrpc":"2.0","method":"now"}\n{"jsonrpc":"2.0","id":"b","method":"boom"}\n{"jsonrpc":"2.0","id":"n","method":"now"}\n');
        const first = (await c.next()) as Reply;
        assert.equal(first.id, "b");
        assert.equal(first.error?.code, -32603);
        assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: "n", result: "now" });
        c.send('[{"jsonrpc":"2.0","id":1,"method":"now"},{"jsonrpc":"2.0","method":"later"},{"jsonrpc":"2.0","id":2,"method":"later"}]\n');
        assert.deepEqual(await c.next(), [
          { jsonrpc: "2.0", id: 1, result: "now" },
          { jsonrpc: "2.0", id: 2, result: "later" },
        ]);
      } finally {
        c.close();
      }
    });
  });
});
