// Every JSON-RPC error class against the real daemon, which keeps answering afterwards.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { shareDaemon, waitFor } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";

type Reply = { jsonrpc: string; id: unknown; result?: any; error?: { code: number; message: string; data?: any } };

describe("JSON-RPC over the daemon's socket", () => {
  const shared = shareDaemon({ raw: true });

  async function ask(text: string): Promise<Reply> {
    shared.raw.send(text);
    return (await shared.raw.next()) as Reply;
  }
  async function stillAnswers(): Promise<void> {
    const r = await ask('{"jsonrpc":"2.0","id":"p","method":"ping"}\n');
    assert.equal(r.result.pong, true);
  }

  test("a line that is not JSON gets -32700 with id null", async () => {
    const r = await ask("{not json\n");
    assert.equal(r.error?.code, -32700);
    assert.equal(r.id, null);
    await stillAnswers();
  });

  test("JSON that is not a request gets -32600 (null, a number, a non-string method, an empty batch)", async () => {
    for (const bad of ["null", "5", '{"jsonrpc":"2.0","id":1,"method":5}', '{"id":2,"method":"ping"}', "[]", '{"jsonrpc":"2.0","id":3,"method":"ping","params":7}']) {
      const r = await ask(`${bad}\n`);
      assert.equal(r.error?.code, -32600, `for ${bad}`);
    }
    await stillAnswers();
  });

  test("an unknown method gets -32601 with the request's id", async () => {
    const r = await ask('{"jsonrpc":"2.0","id":42,"method":"no.such"}\n');
    assert.equal(r.error?.code, -32601);
    assert.equal(r.id, 42);
    await stillAnswers();
  });

  test("bad params get -32602 naming the field and why", async () => {
    const r = await ask('{"jsonrpc":"2.0","id":7,"method":"events.read","params":{"fromSeq":-1,"limit":"x"}}\n');
    assert.equal(r.error?.code, -32602);
    assert.match(r.error!.message, /fromSeq/);
    assert.match(r.error!.message, /limit/);
    assert.equal(r.error?.data?.code, "INVALID_PARAMS");
    const extra = await ask('{"jsonrpc":"2.0","id":8,"method":"ping","params":{"surprise":1}}\n');
    assert.equal(extra.error?.code, -32602);
    assert.match(extra.error!.message, /surprise/);
    await stillAnswers();
  });

  test("events.append validates its type and answers with the durable seq", async () => {
    const r = await ask('{"jsonrpc":"2.0","id":9,"method":"events.append","params":{"type":"not-ext"}}\n');
    assert.equal(r.error?.code, -32602);
    const ok = await ask('{"jsonrpc":"2.0","id":10,"method":"events.append","params":{"type":"ext.test","payload":{"n":1}}}\n');
    assert.ok(ok.result.seq > 0);
  });

  test("a batch is answered with an array; notifications get no reply", async () => {
    shared.raw.send('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","id":2,"method":"nope"},5]\n');
    const r = (await shared.raw.next()) as Reply[];
    assert.ok(Array.isArray(r));
    assert.equal(r.length, 3);
    assert.equal(r.find((x) => x.id === 1)?.result.pong, true);
    assert.equal(r.find((x) => x.id === 2)?.error?.code, -32601);
    assert.equal(r.find((x) => x.id === null)?.error?.code, -32600);
    // A batch of one is still an array.
    shared.raw.send('[{"jsonrpc":"2.0","id":"solo","method":"ping"}]\n');
    const one = await shared.raw.next();
    assert.ok(Array.isArray(one));
    // A lone notification: nothing comes back, the next request's reply is the next line.
    shared.raw.send('{"jsonrpc":"2.0","method":"ping"}\n');
    await stillAnswers();
  });

  test("a batch over 1000 entries is refused with -32600 saying so; one of 1000 is answered", async () => {
    const batch = (n: number) => `[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}`).join(",")}]\n`;
    const big = await ask(batch(1001));
    assert.equal(big.error?.code, -32600);
    assert.match(big.error!.message, /1001 entries; at most 1000/);
    assert.equal(big.id, null);
    shared.raw.send(batch(1000));
    const ok = (await shared.raw.next()) as Reply[];
    assert.equal(ok.length, 1000);
    assert.ok(ok.every((r) => r.result?.pong === true));
    await stillAnswers();
  });

  test("while one client floods the daemon with 25,000 pipelined pings, another client's pings are answered in between", async () => {
    const total = 25_000;
    const flood = connect(shared.daemon.paths.socket);
    await new Promise<void>((resolve) => flood.once("connect", resolve));
    let floodReplies = 0;
    const floodDone = new Promise<void>((resolve) => {
      flood.on("data", (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 10) floodReplies++;
        if (floodReplies === total) resolve();
      });
    });
    try {
      flood.write(Array.from({ length: total }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}\n`).join(""));
      await waitFor("the flood's first reply", () => floodReplies > 0, 30_000, 1);
      const c = await shared.daemon.client();
      const seenAtReply: number[] = [];
      for (let i = 0; i < 5; i++) {
        assert.equal((await c.call("ping")).pong, true);
        seenAtReply.push(floodReplies);
      }
      c.close();
      assert.ok(seenAtReply[0]! < total, `the other client's first reply came before the flood's last (${seenAtReply.join(", ")} of ${total})`);
      await floodDone;
      assert.equal(floodReplies, total, "every flood request is answered too");
    } finally {
      flood.destroy();
    }
    await stillAnswers();
  });

  test("a message over the size limit is refused and only that connection is closed", async () => {
    const big = await rawConnect(shared.daemon.paths.socket);
    big.send(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${"x".repeat(1024 * 1024 + 10)}"}}\n`);
    const r = (await big.next()) as Reply;
    assert.equal(r.error?.data?.code, "MESSAGE_TOO_LARGE");
    await big.closed;
    await stillAnswers();
  });

  test("a client that sends half a message and goes silent does not delay others", async () => {
    const silent = await rawConnect(shared.daemon.paths.socket);
    silent.send('{"jsonrpc":"2.0","id":1,"meth');
    const c = await shared.daemon.client();
    // Blocked behind the silent one, this would never be answered (and the test would time out).
    const r = await c.call("ping");
    assert.equal(r.pong, true);
    c.close();
    silent.close();
  });
});
