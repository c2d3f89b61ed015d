// Live events from the daemon's record: `events.subscribe` catches up from a seq and then sends each
// durable batch as a notification, filtered, in order, once each; a subscriber that does not read
// is dropped, not buffered for. `cpwd events` reads the record on disk (the last N, filters), with
// the daemon down too, and `--follow` streams what the daemon commits until it stops.
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { test } from "node:test";
import type { EventRecord } from "../../src/protocol/events.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { startCli } from "../helpers/background-cli.js";
import { cleanup, cpwd, startDaemon, waitFor, withDaemon } from "../helpers/daemon.js";

/** Every event the client's `events.batch` notifications bring, in arrival order, by subscription. */
function collect(client: RpcClient): Map<number, EventRecord[]> {
  const got = new Map<number, EventRecord[]>();
  client.onNotification("events.batch", (p) => {
    const list = got.get(p.subscription) ?? [];
    list.push(...(p.events as EventRecord[]));
    got.set(p.subscription, list);
  });
  return got;
}

const seqs = (events: EventRecord[]) => events.map((e) => e.seq);
const payloadNs = (events: EventRecord[]) => events.map((e) => e.payload.n);

test("events.subscribe sends the record from fromSeq, then each durable batch as it is committed: in order, once each", async () => {
  await withDaemon(async (_d, c) => {
    for (let n = 0; n < 5; n++) await c.call("events.append", { type: "ext.test", payload: { n } });
    const got = collect(c);
    const all = await c.call("events.subscribe", { fromSeq: 1, type: "ext." });
    const fresh = await c.call("events.subscribe", {});
    assert.equal(fresh.lastSeq, all.lastSeq);
    // Appended together, so several share a group commit and arrive as one batch.
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.call("events.append", { type: "ext.test", payload: { n: 5 + i } })));
    await waitFor("25 events on the catching-up subscription", () => (got.get(all.subscription)?.length ?? 0) >= 25);
    const caughtUp = got.get(all.subscription)!;
    assert.equal(caughtUp.length, 25);
    assert.deepEqual([...payloadNs(caughtUp)].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 25 }, (_, i) => i));
    assert.deepEqual(seqs(caughtUp), [...seqs(caughtUp)].sort((a, b) => a - b), "in seq order");
    assert.equal(new Set(seqs(caughtUp)).size, 25, "none twice");
    assert.ok(caughtUp.every((e) => e.type === "ext.test"));

    // Without fromSeq: only what was committed after the subscription began.
    const fromNow = got.get(fresh.subscription) ?? [];
    assert.ok(fromNow.every((e) => e.seq > fresh.lastSeq));
    assert.equal(fromNow.filter((e) => e.type === "ext.test").length, 20);
  });
});

test("a subscription takes only its worker's and session's events; unsubscribe ends it", async () => {
  await withDaemon(async (_d, c) => {
    const got = collect(c);
    const w9 = await c.call("events.subscribe", { worker: "W9" });
    const s1 = await c.call("events.subscribe", { session: "s-1", type: "ext.b" });
    await c.call("events.append", { type: "ext.a", worker: "W9", payload: { n: 1 } });
    await c.call("events.append", { type: "ext.a", worker: "W8", session: "s-1", payload: { n: 2 } });
    await c.call("events.append", { type: "ext.b", worker: "W8", session: "s-1", payload: { n: 3 } });
    await waitFor("the session's event", () => got.get(s1.subscription)?.length === 1);
    assert.deepEqual(payloadNs(got.get(w9.subscription)!), [1]);
    assert.deepEqual(payloadNs(got.get(s1.subscription)!), [3]);

    assert.deepEqual(await c.call("events.unsubscribe", { subscription: w9.subscription }), { ok: true });
    await c.call("events.append", { type: "ext.b", worker: "W9", session: "s-1", payload: { n: 4 } });
    // Both would go out in the same turn on the same connection: once s-1 has it, W9 would have.
    await waitFor("the session's second event", () => got.get(s1.subscription)?.length === 2);
    assert.deepEqual(payloadNs(got.get(w9.subscription)!), [1], "nothing after unsubscribe");
    await assert.rejects(c.call("events.unsubscribe", { subscription: w9.subscription }), { code: "NOT_FOUND" });
  });
});

test("a subscriber that does not read is dropped once its unsent events pass the limit; the daemon serves on", async () => {
  await withDaemon(async (d, c) => {
    const sock = netConnect(d.paths.socket);
    await new Promise<void>((resolve, reject) => sock.once("connect", resolve).once("error", reject));
    sock.on("error", () => {});
    let text = "";
    sock.on("data", (b: Buffer) => (text += b.toString()));
    const closed = new Promise<void>((resolve) => sock.once("close", () => resolve()));
    sock.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "events.subscribe", params: { type: "ext.big" } })}\n`);
    await waitFor("the subscribe reply", () => text.includes('"id":1'));
    sock.pause();
    // 24 MiB of events for a reader that reads none: past the daemon's 16 MiB of unsent bytes.
    const pad = "x".repeat(512 * 1024);
    for (let n = 0; n < 48; n++) await c.call("events.append", { type: "ext.big", payload: { n, pad } });
    assert.deepEqual((await c.call("ping")).pong, true, "others are still served");
    sock.resume();
    await closed;
    // Complete lines only: the connection was cut, maybe half-way through one.
    const batches = text.split("\n").slice(0, -1).filter((l) => l.includes('"events.batch"'));
    const received = batches.reduce((sum, l) => sum + (JSON.parse(l) as { params: { events: unknown[] } }).params.events.length, 0);
    assert.ok(received < 48, `the dropped reader got ${received} of 48 events`);
    assert.equal((await c.call("events.read", { fromSeq: 1, type: "ext.big", limit: 100 })).events.length > 0, true);
  });
});

test("cpwd events -n N prints the last N; --type takes a glob; --worker an id or a name; --session an id", async () => {
  await withDaemon(async (d, c) => {
    for (let n = 0; n < 30; n++) await c.call("events.append", { type: n % 2 ? "ext.odd" : "ext.even", payload: { n }, ...(n === 7 ? { session: "sess-7" } : {}) });
    const last = cpwd(d.home, ["events", "-n", "3", "--json"]);
    assert.equal(last.code, 0, last.stderr);
    assert.equal(last.stderr, "");
    assert.deepEqual(last.stdout.trim().split("\n").map((l) => JSON.parse(l).payload.n), [27, 28, 29]);
    const odd = cpwd(d.home, ["events", "-n", "2", "--type", "ext.o*", "--json"]);
    assert.deepEqual(odd.stdout.trim().split("\n").map((l) => JSON.parse(l).payload.n), [27, 29]);
    const glob = cpwd(d.home, ["events", "--type", "*.even", "--json", "-n", "100"]);
    assert.equal(glob.stdout.trim().split("\n").length, 15);
    const session = cpwd(d.home, ["events", "--session", "sess-7", "--json"]);
    assert.deepEqual(session.stdout.trim().split("\n").map((l) => JSON.parse(l).payload.n), [7]);

    const spawned = cpwd(d.home, ["spawn", "--name", "quick", "--", "true"]);
    assert.equal(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    await waitFor("the worker to exit", () => cpwd(d.home, ["events", "--worker", id, "--type", "worker.exited", "--json"]).stdout.includes(id));
    for (const who of [id, "quick"]) {
      const r = cpwd(d.home, ["events", "--worker", who, "--type", "worker.*", "--json"]);
      const types = r.stdout.trim().split("\n").map((l) => JSON.parse(l).type);
      assert.deepEqual(types, ["worker.queued", "worker.starting", "worker.started", "worker.exited"], who);
    }
    const nobody = cpwd(d.home, ["events", "--worker", "nobody"]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no worker named nobody/);
  });
});

test("with the daemon down, cpwd events and cpwd logs read the disk and say the daemon is down; --follow cannot", async () => {
  const d = await startDaemon();
  try {
    const spawned = cpwd(d.home, ["spawn", "--name", "greeter", "--", "sh", "-c", "echo hello from disk"]);
    assert.equal(spawned.code, 0, spawned.stderr);
    const c = await d.client();
    await waitFor("the worker to exit", async () => (await c.call("worker.get", { target: "greeter" })).workers[0]?.state === "exited");
    await c.call("events.append", { type: "ext.kept", payload: { n: 1 } });
    c.close();
    await d.stop();
    const logs = cpwd(d.home, ["logs", "greeter"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "hello from disk\n");
    assert.match(logs.stderr, /^cpwd logs: the daemon is not running \(home .*\); reading the logs on disk\n$/);
    const unknown = cpwd(d.home, ["logs", "W99"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no worker W99 in the record/);

    const r = cpwd(d.home, ["events", "-n", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^cpwd events: the daemon is not running \(home .*\); reading the record on disk\n$/);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /ext\.kept/);
    assert.match(lines[1]!, /daemon\.stopped/);
    const page = cpwd(d.home, ["events", "--from", "1", "--type", "ext."]);
    assert.equal(page.code, 0);
    assert.match(page.stdout, /ext\.kept/);
    const follow = cpwd(d.home, ["events", "--follow"]);
    assert.equal(follow.code, 3);
    assert.match(follow.stderr, /--follow needs the daemon; start it with `cpwd start`/);
  } finally {
    await cleanup(d);
  }
});

test("cpwd events --follow streams events as the daemon commits them, and says so when the daemon stops", async () => {
  const d = await startDaemon();
  const followers: Array<ReturnType<typeof startCli>> = [];
  try {
    const c = await d.client();
    await c.call("events.append", { type: "ext.seen", payload: { n: 0 } });
    const tail = startCli(d.home, ["events", "-f", "-n", "1", "--type", "ext.*"]);
    const fromStart = startCli(d.home, ["events", "--follow", "--from", "1", "--json", "--type", "ext."]);
    followers.push(tail, fromStart);
    await waitFor("the follower's tail", () => tail.stdout().includes("ext.seen"), 15_000);
    await waitFor("the record from seq 1", () => fromStart.stdout().includes("ext.seen"), 15_000);
    for (let n = 1; n <= 3; n++) {
      await c.call("events.append", { type: "ext.live", payload: { n } });
      await waitFor(`live event ${n}`, () => tail.stdout().includes(`{"n":${n}}`));
    }
    await c.call("events.append", { type: "ext.last", payload: { n: 4 } });
    await waitFor("the last event, by both", () => fromStart.stdout().includes("ext.last") && tail.stdout().includes("ext.last"));
    const got = fromStart.stdout().trim().split("\n").map((l) => JSON.parse(l) as EventRecord);
    assert.deepEqual(got.map((e) => e.payload.n), [0, 1, 2, 3, 4]);
    assert.equal(tail.stdout().trim().split("\n").length, 5, "the tail line and four new ones, none twice");
    c.close();

    await d.stop();
    for (const f of followers) {
      assert.equal(await f.done, 3);
      assert.match(f.stderr(), /cpwd events: the daemon stopped; nothing more will follow/);
    }
  } finally {
    for (const f of followers) await f.stop();
    await cleanup(d);
  }
});
