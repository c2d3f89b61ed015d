// `events.read` sends a page as the record's own lines (no serialising each event again), and the
// secret mask still holds on that path: a line written by hand that spells a secret with \u
// escapes, or hides it under a key a later duplicate shadows, never reaches a client in the reply.
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { cleanup, startDaemon, tempHome, type TestDaemon } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";

const TOKEN = "tok-5e1d0c9a44";

/** Sends one request on a fresh connection and returns the reply line exactly as it came. */
async function rawReply(socketPath: string, request: object): Promise<string> {
  const conn = await rawConnect(socketPath);
  try {
    conn.send(`${JSON.stringify(request)}\n`);
    return await conn.nextLine();
  } finally {
    conn.close();
  }
}

test("events.read sends the record's lines as they are, and a secret in a hand-written line never reaches the reply", async () => {
  const home = tempHome("cpwd-read-lines-");
  const env = { DEPLOY_TOKEN: TOKEN };
  let d: TestDaemon | undefined = await startDaemon(home, env);
  try {
    const c = await d.client();
    for (let n = 0; n < 3; n++) await c.call("events.append", { type: "ext.plain", payload: { n, text: "é → 世界" } });
    c.close();
    await d.stop();

    // Two lines by hand: the secret in \u escapes, and the secret under a key its duplicate shadows.
    const lines = readFileSync(d.paths.events, "utf8").trimEnd().split("\n");
    const last = (JSON.parse(lines.at(-1)!) as { seq: number }).seq;
    const ts = new Date().toISOString();
    const escaped = TOKEN.replace(/[a-z]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
    appendFileSync(
      d.paths.events,
      `{"v":1,"seq":${last + 1},"ts":"${ts}","type":"ext.hand","source":"test","payload":{"note":"${escaped}"}}\n` +
        `{"v":1,"seq":${last + 2},"ts":"${ts}","type":"ext.hand","source":"test","payload":{"k":"${TOKEN}","k":"clean"}}\n`,
    );

    d = await startDaemon(home, env);
    const plain = lines.filter((l) => l.includes('"ext.plain"'));
    const firstPlain = (JSON.parse(plain[0]!) as { seq: number }).seq;
    // A page without secrets: the file's lines, verbatim, in the reply's events.
    const page = await rawReply(d.paths.socket, { jsonrpc: "2.0", id: 1, method: "events.read", params: { fromSeq: firstPlain, limit: 3 } });
    assert.ok(page.includes(`"result":{"events":[${plain.join(",")}],"nextSeq":`), `the reply carries the lines as written: ${page.slice(0, 300)}`);
    assert.deepEqual(
      (JSON.parse(page) as { result: { events: unknown[] } }).result.events,
      plain.map((l) => JSON.parse(l)),
    );

    // The hand-written lines: the secret in neither form, and the shadowing value kept.
    const all = await rawReply(d.paths.socket, { jsonrpc: "2.0", id: 2, method: "events.read", params: { fromSeq: last + 1, limit: 10 } });
    assert.ok(!all.includes(TOKEN) && !all.includes(escaped), `the secret reached the reply: ${all}`);
    const events = (JSON.parse(all) as { result: { events: Array<{ payload: Record<string, string> }> } }).result.events;
    assert.equal(events[0]!.payload.note, "[redacted]");
    assert.equal(events[1]!.payload.k, "clean");
    // The shadowed secret on a page of its own (with the other, the page is copied anyway), alone
    // and in a batch: the object holds no secret, its line does.
    for (const request of [
      { jsonrpc: "2.0", id: 3, method: "events.read", params: { fromSeq: last + 2, limit: 10 } },
      [{ jsonrpc: "2.0", id: 4, method: "events.read", params: { fromSeq: last + 2, limit: 10 } }],
    ]) {
      const reply = await rawReply(d.paths.socket, request);
      assert.ok(!reply.includes(TOKEN), `the shadowed secret reached the reply: ${reply}`);
      assert.match(reply, /"payload":\{"k":"clean"\}/);
    }
  } finally {
    await cleanup(d, home);
  }
});
