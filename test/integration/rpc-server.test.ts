// The RPC server on a real Unix socket, in process, with short limits: the unfinished-message
// deadline counts from a message's first byte and stands still while the server is not reading,
// one connection's flood is handled a slice per event-loop turn, a batch runs a slice at a time
// and never builds a reply past the unsent limit, and closing removes the socket file only while
// it is still the server's own. A connection that does not read its replies gets no new calls
// started, and heavy work (`runHeavy`) runs a few jobs at a time with connections taking turns,
// never for a connection that closed before its turn.
import assert from "node:assert/strict";
import { rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { JSONRPCServer } from "json-rpc-2.0";
import type { ConnectionInfo, RpcServerOptions } from "../../src/rpc/server.js";
import { tempHome, waitFor } from "../helpers/daemon.js";
import { nonReadingConnect, rawConnect } from "../helpers/raw-socket.js";
import { startRpcServer, withRpcServer } from "../helpers/rpc-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PING = '{"jsonrpc":"2.0","id":"p","method":"ping"}\n';

/** Waits until `count()` has not changed for `quietMs`, and returns it. */
async function settled(count: () => number, quietMs = 300): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = count();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= quietMs) return now;
    await sleep(25);
  }
}

/** A method table whose `page` makes a reply of `bytes` as heavy work, and how many it has made. */
function pageServer(bytes: number): { rpc: JSONRPCServer<ConnectionInfo>; ran: () => number } {
  const rpc = new JSONRPCServer<ConnectionInfo>({ errorListener: () => {} });
  let ran = 0;
  const page = "x".repeat(bytes);
  rpc.addMethod("page", (_p, info) =>
    info.runHeavy(async () => {
      ran++;
      return page;
    }),
  );
  return { rpc, ran: () => ran };
}

/** A server answering `ping` and `turn` (which event-loop turn the call ran in); `close` also stops the turn counter. */
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
  const { server, socketPath } = await startRpcServer({ dir, name: "s", rpc, ...extra });
  return {
    socketPath,
    close: async () => {
      ticking = false;
      await server.close(1_000);
    },
  };
}

/** Runs `body` against a `listen` server, and always closes it. */
async function withPingServer(dir: string, extra: Partial<RpcServerOptions>, body: (socketPath: string) => Promise<void>): Promise<void> {
  const s = await listen(dir, extra);
  try {
    await body(s.socketPath);
  } finally {
    await s.close();
  }
}

/** `n` calls of `method` with ids 0 to n-1, one a line. */
function pipelined(n: number, method: string): string {
  return Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"${method}"}\n`).join("");
}

/** The ids 0 to n-1: every call of a `pipelined` burst answered once (compare sorted). */
function allIds(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Pipelines `n` calls of `method` on a connection that does not read its replies and checks that
 * the server soon stops (`ran` settles below a quarter of them: `stopped` says what stopped) and
 * pauses the connection rather than dropping it; then reads, and checks every call is answered once.
 */
async function floodWithoutReading(socketPath: string, method: string, n: number, ran: () => number, stopped: string): Promise<void> {
  const c = await nonReadingConnect(socketPath);
  try {
    c.socket.write(pipelined(n, method));
    const started = await settled(ran);
    assert.ok(started < n / 4, `${stopped} while the replies were not read (${started} of ${n})`);
    assert.equal(c.closed(), false, "paused, not dropped");
    const ids = (await c.readLines(n)).map((r) => (r as { id: number }).id);
    assert.deepEqual(
      ids.sort((x, y) => x - y),
      allIds(n),
      "once it reads, every call is answered once",
    );
  } finally {
    c.socket.destroy();
  }
}

describe("RpcServer on a real socket", () => {
  let dir: string;
  before(() => {
    dir = tempHome("cpwd-rpc-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a message trickled a byte at a time is cut off once it has been unfinished too long", async () => {
    await withPingServer(dir, { partialLineTimeoutMs: 300 }, async (socketPath) => {
      const c = await rawConnect(socketPath);
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
    });
  });

  test("a message finished in time clears the deadline: an idle connection afterwards stays open", async () => {
    await withPingServer(dir, { partialLineTimeoutMs: 1_000 }, async (socketPath) => {
      const c = await rawConnect(socketPath);
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
    });
  });

  test("a flood of pipelined requests is handled a slice per event-loop turn", async () => {
    const linesPerTurn = 64;
    await withPingServer(dir, { linesPerTurn }, async (socketPath) => {
      const total = 5_000;
      const socket = connect(socketPath);
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
      socket.write(pipelined(total, "turn"));
      await all;
      socket.destroy();
      const perTurn = new Map<number, number>();
      for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
      const most = Math.max(...perTurn.values());
      // A slice from the queue and one from freshly read data can share a turn; never more.
      assert.ok(most <= 2 * linesPerTurn, `at most ${2 * linesPerTurn} calls in one turn (saw ${most})`);
    });
  });

  test("a batch runs a slice of entries at a time, and is still answered whole and in order", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>();
    let active = 0;
    let most = 0;
    rpc.addMethod("work", async (p: { i: number }) => {
      most = Math.max(most, ++active);
      await sleep(1);
      active--;
      return p.i;
    });
    await withRpcServer({ dir, name: "b", rpc, batchSliceEntries: 16 }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      const n = 300;
      c.send(`[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"work","params":{"i":${i}}}`).join(",")}]\n`);
      const replies = (await c.next()) as Array<{ id: number; result: number }>;
      assert.equal(replies.length, n);
      assert.deepEqual(
        replies.map((r) => r.result),
        allIds(n),
      );
      assert.ok(most <= 16, `at most 16 entries ran at once (saw ${most})`);
      c.close();
    });
  });

  test("a batch whose reply would pass the unsent limit stops running and is answered with one error; the connection goes on", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>();
    let ran = 0;
    rpc.addMethod("ping", () => ({ pong: true }));
    rpc.addMethod("big", () => {
      ran++;
      return "x".repeat(4096);
    });
    const maxUnsentBytes = 64 * 1024;
    await withRpcServer({ dir, name: "big", rpc, maxUnsentBytes, batchSliceEntries: 8 }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      const n = 200; // 200 × 4 KiB: far more than 64 KiB
      c.send(`[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"big"}`).join(",")}]\n`);
      const r = (await c.next()) as { id: unknown; error?: { code: number; message: string; data: { code: string; limit: number; entries: number; ran: number } } };
      assert.equal(r.id, null);
      assert.equal(r.error?.code, -32600);
      assert.equal(r.error?.data.code, "MESSAGE_TOO_LARGE");
      assert.equal(r.error?.data.limit, maxUnsentBytes);
      assert.equal(r.error?.data.entries, n);
      assert.equal(r.error?.data.ran, ran, "the error says how many entries ran");
      assert.ok(ran < n, `the rest of the batch was not run (${ran} of ${n})`);
      c.send(PING);
      assert.deepEqual(((await c.next()) as { result: unknown }).result, { pong: true });
      c.close();
    });
  });

  test("the unfinished-message deadline stands still while the server has paused reading the connection", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    rpc.addMethod("ping", () => ({ pong: true }));
    rpc.addMethod("slow", async () => {
      await released;
      return "done";
    });
    const partialLineTimeoutMs = 200;
    await withRpcServer({ dir, name: "slow", rpc, partialLineTimeoutMs, maxPendingCallsPerConnection: 2 }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      let closed = false;
      void c.closed.then(() => (closed = true));
      // Two slow calls fill the pending limit, so the server queues the ping and stops reading;
      // the message after it is unfinished when the server stops.
      const slow = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"slow"}\n`;
      c.send(`${slow(1)}${slow(2)}${PING}${PING.slice(0, 15)}`);
      await sleep(5 * partialLineTimeoutMs);
      assert.equal(closed, false, "not dropped while the server is the one not reading");
      release();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(((await c.next()) as { id: unknown }).id);
      assert.deepEqual(ids.sort(), [1, 2, "p"].sort());
      c.send(PING.slice(15));
      assert.deepEqual(((await c.next()) as { result: unknown }).result, { pong: true });

      // Once the server reads again, the deadline runs again: a message left unfinished now is cut off.
      c.send(PING.slice(0, 15));
      await c.closed;
      c.close();
    });
  });

  test("a connection that does not read its replies gets no new calls started, and is paused rather than dropped", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>();
    let ran = 0;
    const reply = "x".repeat(32 * 1024);
    rpc.addMethod("big", () => {
      ran++;
      return reply;
    });
    await withRpcServer({ dir, name: "backlog", rpc, replyHighWaterBytes: 256 * 1024 }, async (_server, socketPath) => {
      // 2,000 × 32 KiB = 64 MiB of replies, four times the 16 MiB at which a client is dropped
      await floodWithoutReading(socketPath, "big", 2_000, () => ran, "calls stopped being started");
    });
  });

  test("a result that cannot be serialised is answered Internal error with the call's id, and the connection goes on", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>({ errorListener: () => {} });
    rpc.addMethod("ping", () => ({ pong: true }));
    rpc.addMethod("bigint", () => ({ n: 1n }));
    await withRpcServer({ dir, name: "unserialisable", rpc }, async (_server, socketPath) => {
      const c = await rawConnect(socketPath);
      try {
        c.send('{"jsonrpc":"2.0","id":"b","method":"bigint"}\n');
        assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: "b", error: { code: -32603, message: "Internal error" } });
        c.send(PING);
        assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: "p", result: { pong: true } });
        // In a batch too: that entry is answered Internal error, the others as usual.
        c.send('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"bigint"}]\n');
        assert.deepEqual(await c.next(), [
          { jsonrpc: "2.0", id: 1, result: { pong: true } },
          { jsonrpc: "2.0", id: 2, error: { code: -32603, message: "Internal error" } },
        ]);
      } finally {
        c.socket.destroy();
      }
    });
  });

  test("heavy work runs a few jobs at a time, never more, and none while its connection is not reading", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>({ errorListener: () => {} });
    let ran = 0;
    let active = 0;
    let most = 0;
    const page = "x".repeat(32 * 1024);
    rpc.addMethod("page", (_p, info) =>
      info.runHeavy(async () => {
        ran++;
        most = Math.max(most, ++active);
        await sleep(1);
        active--;
        return page;
      }),
    );
    await withRpcServer({ dir, name: "heavy", rpc, replyHighWaterBytes: 256 * 1024, heavyJobsAtOnce: 2 }, async (_server, socketPath) => {
      const n = 2_000;
      await floodWithoutReading(socketPath, "page", n, () => ran, "jobs stopped being run");
      assert.equal(ran, n);
      assert.ok(most <= 2, `at most 2 jobs at once (saw ${most})`);
    });
  });

  test("a connection that does not read its replies has one page of heavy work made for it, not one a gate slot; once it reads, the rest are made", async () => {
    const { rpc, ran } = pageServer(1024 * 1024);
    await withRpcServer({ dir, name: "onepage", rpc, heavyJobsAtOnce: 4 }, async (_server, socketPath) => {
      const c = await nonReadingConnect(socketPath);
      try {
        c.socket.write(pipelined(8, "page"));
        assert.equal(await settled(ran), 1, "one page made while its 1 MiB reply was not read");
        const ids = (await c.readLines(8)).map((r) => (r as { id: number }).id);
        assert.deepEqual(ids.sort((x, y) => x - y), allIds(8));
        assert.equal(ran(), 8);
      } finally {
        c.socket.destroy();
      }
    });
  });

  test("connections take turns at the heavy-work gate, and a job whose connection closed before its turn is not run", async () => {
    const rpc = new JSONRPCServer<ConnectionInfo>({ errorListener: () => {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let queued = 0;
    const order: string[] = [];
    rpc.addMethod("ping", () => ({ pong: true }));
    rpc.addMethod("hold", (_p, info) => info.runHeavy(() => released));
    rpc.addMethod("job", (p: { who: string }, info) => {
      queued++;
      return info.runHeavy(async () => {
        order.push(p.who);
        return p.who;
      });
    });
    await withRpcServer({ dir, name: "turns", rpc, heavyJobsAtOnce: 1 }, async (server, socketPath) => {
      const job = (id: number, who: string) => `{"jsonrpc":"2.0","id":${id},"method":"job","params":{"who":"${who}"}}\n`;
      const a = await rawConnect(socketPath);
      const b = await rawConnect(socketPath);
      const gone = await rawConnect(socketPath);
      a.send(`{"jsonrpc":"2.0","id":"h","method":"hold"}\n`); // holds the only slot
      a.send(Array.from({ length: 100 }, (_, i) => job(i, "a")).join(""));
      await waitFor("a's jobs to queue", () => queued === 100);
      gone.send(Array.from({ length: 10 }, (_, i) => job(i, "gone")).join(""));
      await waitFor("the jobs of the connection that will go to queue", () => queued === 110);
      gone.close();
      await waitFor("the server to see the connection close", () => server.connections === 2);
      b.send(job(0, "b"));
      await waitFor("b's job to queue", () => queued === 111);
      release();
      for (let i = 0; i < 101; i++) await a.next();
      assert.equal(((await b.next()) as { result: unknown }).result, "b");
      assert.equal(order.length, 101, "every job ran but those of the closed connection");
      assert.ok(!order.includes("gone"), "a job whose connection closed before its turn was not run");
      assert.ok(order.indexOf("b") <= 1, `b's one job waited for at most one of a's hundred (it ran ${order.indexOf("b") + 1}th)`);
      a.close();
      b.close();
    });
  });

  test("closing the server does not wait for the heavy work of a connection that is not reading: that work is not run", async () => {
    const { rpc, ran } = pageServer(256 * 1024);
    // withRpcServer's own close comes after this one, and finds the server closed already.
    await withRpcServer({ dir, name: "closing", rpc, replyHighWaterBytes: 256 * 1024 }, async (server, socketPath) => {
      const c = await nonReadingConnect(socketPath);
      try {
        c.socket.write(pipelined(200, "page"));
        const started = await settled(ran);
        assert.ok(started < 200, `the connection's work was held back (${started} of 200 ran)`);
        // A generous guard, not a timing assertion: without it a hang would only show as a stuck test.
        let guard: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          server.close(120_000).then(() => "closed"),
          new Promise((resolve) => (guard = setTimeout(() => resolve("still waiting"), 30_000))),
        ]);
        clearTimeout(guard);
        assert.equal(outcome, "closed", "close did not wait on work that could never be answered");
        assert.equal(ran(), started, "the held-back work was not run");
      } finally {
        c.socket.destroy();
      }
    });
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
