// A line with a value nested 128 levels deep or more is parsed with that value collapsed unread
// (src/rpc/line-shape.ts): the call it was in is refused with its id and never run, whatever the
// collapsed part held — even text that is not JSON — and the batch's other calls run as usual.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { JSONRPCServer } from "json-rpc-2.0";
import { RpcServer, type ConnectionInfo } from "../../src/rpc/server.js";
import { tempHome } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";

type Reply = { id: unknown; result?: unknown; error?: { code: number; message: string } };

/** `depth` arrays around `inner`, which may be anything (not JSON, too). */
const deep = (depth: number, inner: string) => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
const ping = (id: number, extra = "") => `{"jsonrpc":"2.0","id":${id},"method":"ping"${extra}}`;

test("a call with a value nested 128 deep is refused with its id and not run, even when that value is not JSON; its batch's other calls run", async () => {
  const dir = tempHome("cpwd-collapsed-");
  let pings = 0;
  const rpc = new JSONRPCServer<ConnectionInfo>();
  rpc.addMethod("ping", () => {
    pings++;
    return "pong";
  });
  const server = await RpcServer.listen({ socketPath: join(dir, "s.sock"), rpc, maxMessageBytes: 1 << 20, log: { warn: () => {}, debug: () => {} } });
  const c = await rawConnect(join(dir, "s.sock"));
  try {
    const refused = (r: Reply, id: number) => {
      assert.equal(r.id, id);
      assert.deepEqual(r.error, { code: -32602, message: "invalid params: nested too deeply (a message may nest at most 64 levels)", data: { code: "INVALID_PARAMS", maxDepth: 64 } });
    };
    // Not JSON at depth 200, in a field beside the call (a parse of the whole line refuses it).
    for (const inner of ["1 2", "nul", '"\\q"']) {
      c.send(`${ping(1, `,"x":${deep(200, inner)}`)}\n`);
      refused((await c.next()) as Reply, 1);
    }
    // Brackets that do not match leave the collapse open: the line is parsed whole, a parse error.
    c.send(`${ping(1, `,"x":${deep(200, "[[[}")}`)}\n`);
    assert.equal(((await c.next()) as Reply).error?.code, -32700);
    // Valid JSON that deep, in params or beside them: refused just the same.
    c.send(`${ping(2, `,"params":{"a":${deep(200, "1")}}`)}\n`);
    refused((await c.next()) as Reply, 2);
    assert.equal(pings, 0, "none of them ran");

    // In a batch: only the deep entry is refused.
    c.send(`[${ping(3)},${ping(4, `,"x":${deep(150, "1 2")}`)},${ping(5)}]\n`);
    const replies = (await c.next()) as Reply[];
    assert.deepEqual(replies.map((r) => r.id), [3, 4, 5]);
    assert.equal(replies[0]!.result, "pong");
    refused(replies[1]!, 4);
    assert.equal(replies[2]!.result, "pong");
    assert.equal(pings, 2);

    // A notification so refused is not answered, alone or in a batch (nor run).
    c.send(`{"jsonrpc":"2.0","method":"ping","x":${deep(200, "1 2")}}\n`);
    c.send(`[{"jsonrpc":"2.0","method":"ping","x":${deep(200, "1")}},${ping(8)}]\n`);
    assert.deepEqual(((await c.next()) as Reply[]).map((r) => [r.id, r.result]), [[8, "pong"]], "only the batch's call is answered");
    assert.equal(pings, 3);

    // 127 levels is not collapsed: parsed as sent (a syntax error there is a parse error).
    c.send(`${ping(6, `,"x":${deep(126, "1 2")}`)}\n`);
    assert.equal(((await c.next()) as Reply).error?.code, -32700);
    c.send(`${ping(7, `,"x":${deep(126, "1")}`)}\n`);
    assert.equal(((await c.next()) as Reply).result, "pong");
  } finally {
    c.close();
    await server.close(1_000);
    rmSync(dir, { recursive: true, force: true });
  }
});
