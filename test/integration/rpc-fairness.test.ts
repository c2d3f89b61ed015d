// Two costs one client could make every other client pay (found by the hostile-clients chaos
// scenario). A flood spread over many connections: 20 connections of slow calls made a ping from
// another client wait behind every one of their 64-line slices (1,280 calls a turn; over a second
// on a loaded machine); with the server's turn scheduler a call from another client waits about
// one turn's budget, however many connections flood. (The good client runs in a thread of its
// own, so that its call arrives at any moment of the server's turn, as a real client's does.)
// And a line nested 100,000 levels deep, which JSON.parse took tens of milliseconds over.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { JSONRPCServer } from "json-rpc-2.0";
import { RpcServer, type ConnectionInfo } from "../../src/rpc/server.js";
import { tempHome, waitFor } from "../helpers/daemon.js";
import { rawConnect, type RawConn } from "../helpers/raw-socket.js";

const FLOODERS = 20;
const CALLS_EACH = 1_000;
const SLOW_MS = 0.5;
const GOOD_CALLS = 5;

/** The good client: GOOD_CALLS calls at random moments, each posting when it was sent. */
const GOOD_CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { connect } = require("node:net");
const { performance } = require("node:perf_hooks");
const socket = connect(workerData.path);
let buf = "";
let waiting = null;
socket.on("data", (c) => {
  buf += c;
  if (buf.includes("\\n")) { buf = ""; const w = waiting; waiting = null; w(); }
});
socket.on("connect", async () => {
  for (let i = 0; i < ${GOOD_CALLS}; i++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
    const sentAt = performance.timeOrigin + performance.now();
    await new Promise((r) => { waiting = r; socket.write(JSON.stringify({ jsonrpc: "2.0", id: i, method: "good" }) + "\\n"); });
    parentPort.postMessage(sentAt);
  }
  socket.destroy();
});
`;

test("a flood over 20 connections keeps another client's call waiting about one turn's budget, not behind every connection's slice", async () => {
  const dir = tempHome("cpwd-turn-budget-");
  const handled: Array<{ good: boolean; at: number }> = [];
  const now = () => performance.timeOrigin + performance.now();
  const rpc = new JSONRPCServer<ConnectionInfo>();
  rpc.addMethod("slow", () => {
    const until = performance.now() + SLOW_MS;
    while (performance.now() < until) {
      // a call that costs half a millisecond of the daemon's time
    }
    handled.push({ good: false, at: now() });
    return 1;
  });
  rpc.addMethod("good", () => {
    handled.push({ good: true, at: now() });
    return 1;
  });
  const server = await RpcServer.listen({ socketPath: join(dir, "s.sock"), rpc, maxMessageBytes: 1 << 20, log: { warn: () => {}, debug: () => {} } });
  const flooders: RawConn[] = [];
  let worker: Worker | undefined;
  try {
    for (let k = 0; k < FLOODERS; k++) flooders.push(await rawConnect(join(dir, "s.sock")));
    for (const [k, c] of flooders.entries()) c.send(Array.from({ length: CALLS_EACH }, (_, i) => `{"jsonrpc":"2.0","id":"${k}-${i}","method":"slow"}\n`).join(""));
    await waitFor("the flood to be under way", () => handled.length > 100);

    const sent: number[] = [];
    worker = new Worker(GOOD_CLIENT, { eval: true, workerData: { path: join(dir, "s.sock") } });
    worker.on("message", (t: number) => sent.push(t));
    await waitFor("the good client's calls", () => sent.length === GOOD_CALLS, 60_000);
    assert.ok(handled.filter((h) => !h.good).length < FLOODERS * CALLS_EACH, "the flood was still going on");

    // For each good call: the slow calls the server ran after it was sent and before it.
    const goods = handled.filter((h) => h.good);
    const waitedBehind = sent.map((t, i) => handled.filter((h) => !h.good && h.at > t && h.at < goods[i]!.at).length);
    console.log(`good calls waited behind ${waitedBehind.join(", ")} slow calls`);
    // One budget (1 ms) is two slow calls; a turn may start a few more before its clock runs.
    assert.ok(Math.max(...waitedBehind) < 100, `a good call waited behind ${Math.max(...waitedBehind)} slow calls (without the budget: up to ${FLOODERS * 64})`);
  } finally {
    await worker?.terminate();
    for (const c of flooders) c.close();
    await server.close(1_000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a line nested 100,000 levels deep is refused unread, and the connection goes on", async () => {
  const dir = tempHome("cpwd-deep-line-");
  const rpc = new JSONRPCServer<ConnectionInfo>();
  rpc.addMethod("ping", () => "pong");
  const server = await RpcServer.listen({ socketPath: join(dir, "s.sock"), rpc, maxMessageBytes: 1 << 20, log: { warn: () => {}, debug: () => {} } });
  const c = await rawConnect(join(dir, "s.sock"));
  try {
    for (const line of [`${"[".repeat(100_000)}${"]".repeat(100_000)}`, `${'{"x":'.repeat(100_000)}1${"}".repeat(100_000)}`]) {
      c.send(`${line}\n`);
      const reply = (await c.next()) as { id: unknown; error?: { code: number; message: string } };
      assert.equal(reply.id, null);
      assert.equal(reply.error?.code, -32600);
      assert.match(reply.error!.message, /nested more than 10000 levels deep/);
    }
    c.send('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    assert.equal(((await c.next()) as { result: unknown }).result, "pong");
  } finally {
    c.close();
    await server.close(1_000);
    rmSync(dir, { recursive: true, force: true });
  }
});
