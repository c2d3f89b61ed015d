// The RPC server on a real Unix socket, in process, with short limits: the unfinished-message
// deadline counts from a message's first byte, one connection's flood is handled a slice per
// event-loop turn, and closing removes the socket file only while it is still the server's own.
import assert from "node:assert/strict";
import { rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JSONRPCServer } from "json-rpc-2.0";
import { RpcServer, type ConnectionInfo, type RpcServerOptions } from "../../src/rpc/server.js";
import { tempHome } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";

const quiet = { warn: () => {}, debug: () => {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PING = '{"jsonrpc":"2.0","id":"p","method":"ping"}\n';

/** A server answering `ping` and `turn` (which event-loop turn the call ran in). */
async function listen(dir: string, extra: Partial<RpcServerOptions> = {}) {
  const rpc = new JSONRPCServer<ConnectionInfo>();
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  rpc.addMethod("ping", () => ({ pong: true }));
  rpc.addMethod("turn", () => turn);
  const socketPath = join(dir, "s.sock");
  const server = await RpcServer.listen({ socketPath, rpc, maxMessageBytes: 1 << 20, log: quiet, ...extra });
  return {
    server,
    socketPath,
    close: async () => {
      ticking = false;
      await server.close(1_000);
    },
  };
}

describe("RpcServer on a real socket", () => {
  let dir: string;
  before(() => {
    dir = tempHome("cpwd-rpc-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a message trickled a byte at a time is cut off once it has been unfinished too long", async () => {
    const s = await listen(dir, { partialLineTimeoutMs: 300 });
    try {
      const c = await rawConnect(s.socketPath);
      const message = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${"x".repeat(200)}"}}`;
      let sent = 0;
      let closed = false;
      void c.closed.then(() => (closed = true));
      // Each byte comes well within the deadline; only the message as a whole is too slow.
      while (!closed && sent < message.length) {
        c.send(message[sent++]!);
        await sleep(20);
      }
      assert.ok(closed, "the connection was closed");
      assert.ok(sent < message.length, `closed before the message was finished (${sent} of ${message.length} bytes)`);
    } finally {
      await s.close();
    }
  });

  test("a message finished in time clears the deadline: an idle connection afterwards stays open", async () => {
    const s = await listen(dir, { partialLineTimeoutMs: 1_000 });
    try {
      const c = await rawConnect(s.socketPath);
      c.send(PING.slice(0, 20));
      await sleep(150);
      c.send(`${PING.slice(20)}${PING.slice(0, 10)}`); // the end of one message, the start of the next
      assert.deepEqual(((await c.next()) as { result: unknown }).result, { pong: true });
      await sleep(150);
      c.send(PING.slice(10)); // the second message, finished in its own time
      assert.deepEqual(((await c.next()) as { result: unknown }).result, { pong: true });
      await sleep(1_500); // idle, with nothing unfinished: no deadline runs
      c.send(PING);
      assert.deepEqual(((await c.next()) as { result: unknown }).result, { pong: true });
      c.close();
    } finally {
      await s.close();
    }
  });

  test("a flood of pipelined requests is handled a slice per event-loop turn", async () => {
    const linesPerTurn = 64;
    const s = await listen(dir, { linesPerTurn });
    try {
      const total = 5_000;
      const socket = connect(s.socketPath);
      let buf = "";
      const turns: number[] = [];
      const all = new Promise<void>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
          buf += chunk.toString("utf8");
          const lines = buf.split("\n");
          buf = lines.pop()!;
          for (const l of lines) turns.push((JSON.parse(l) as { result: number }).result);
          if (turns.length === total) resolve();
        });
      });
      socket.write(Array.from({ length: total }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"turn"}\n`).join(""));
      await all;
      socket.destroy();
      const perTurn = new Map<number, number>();
      for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
      const most = Math.max(...perTurn.values());
      // A slice from the queue and one from freshly read data can share a turn; never more.
      assert.ok(most <= 2 * linesPerTurn, `at most ${2 * linesPerTurn} calls in one turn (saw ${most})`);
    } finally {
      await s.close();
    }
  });

  test("close removes the socket file it created, and leaves one that replaced it", async () => {
    const own = await listen(dir);
    await own.close();
    assert.throws(() => statSync(own.socketPath), /ENOENT/);

    const replaced = await listen(dir);
    unlinkSync(replaced.socketPath);
    writeFileSync(replaced.socketPath, "a successor's socket\n");
    const successor = statSync(replaced.socketPath);
    await replaced.close();
    assert.equal(statSync(replaced.socketPath).ino, successor.ino, "the successor's file is left alone");
    unlinkSync(replaced.socketPath);
  });
});
