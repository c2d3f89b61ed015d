// Reading a large log through the real daemon: an events.read result is bounded in bytes (nextSeq
// continues it), and a batch of a thousand whole-log reads is answered with a clear error instead
// of building a reply that would exhaust the daemon's memory; the daemon keeps answering.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { pidAlive, shareDaemon } from "../helpers/daemon.js";
import { appendFillEvents } from "../helpers/raw-socket.js";

type Reply = { id: unknown; result?: any; error?: { code: number; message: string; data?: any } };

const EVENTS = 3_000;
const PAD = "x".repeat(600); // ~700 bytes an event: the log is about 2 MiB

describe("events.read on a large log", () => {
  const shared = shareDaemon({ raw: true });
  before(() => appendFillEvents(shared.raw, EVENTS, PAD));

  async function ask(method: string, params?: object): Promise<Reply> {
    shared.raw.send(`${JSON.stringify({ jsonrpc: "2.0", id: "q", method, ...(params ? { params } : {}) })}\n`);
    return (await shared.raw.next(60_000)) as Reply;
  }

  test("a result stops at about 1 MiB of events, and following nextSeq reads every event once", async () => {
    const first = await ask("events.read", { fromSeq: 0, limit: 10_000 });
    const bytes = Buffer.byteLength(JSON.stringify(first.result.events));
    assert.ok(first.result.events.length < EVENTS, `cut short of the whole log (${first.result.events.length} events)`);
    assert.ok(bytes <= 1024 * 1024 + 2_000, `about 1 MiB at most (${bytes} bytes)`);
    assert.ok(first.result.nextSeq <= first.result.lastSeq, "nextSeq says there is more");

    const seqs: number[] = [];
    let fromSeq = 0;
    for (;;) {
      const r = await ask("events.read", { fromSeq, limit: 10_000, type: "ext.fill" });
      seqs.push(...r.result.events.map((e: { seq: number }) => e.seq));
      if (r.result.nextSeq > r.result.lastSeq) break;
      fromSeq = r.result.nextSeq;
    }
    assert.equal(seqs.length, EVENTS, "every event, none twice");
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
  });

  test("a batch of 1000 whole-log reads is answered completely or with a clear error, and the daemon answers ping afterwards", async () => {
    const read = (i: number) => `{"jsonrpc":"2.0","id":${i},"method":"events.read","params":{"fromSeq":0,"limit":10000}}`;
    shared.raw.send(`[${Array.from({ length: 1_000 }, (_, i) => read(i)).join(",")}]\n`);
    const r = (await shared.raw.next(300_000)) as Reply | Reply[];
    if (Array.isArray(r)) {
      assert.equal(r.length, 1_000);
      assert.ok(r.every((x) => Array.isArray(x.result?.events)));
    } else {
      assert.equal(r.error?.code, -32600);
      assert.equal(r.error?.data?.code, "MESSAGE_TOO_LARGE");
      assert.equal(r.error?.data?.entries, 1_000);
      assert.ok(r.error!.data.ran < 1_000, `the batch stopped early (${r.error!.data.ran} entries ran)`);
    }
    assert.ok(pidAlive(shared.daemon.pid), "the daemon survived");
    const ping = await ask("ping");
    assert.equal(ping.result?.pong, true);
    assert.equal(ping.result?.pid, shared.daemon.pid);
  });
});
