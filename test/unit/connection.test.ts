// A Connection on its own, on a real socket, with a stand-in line handler instead of JSON-RPC:
// lines reach the handler whole and in order, no more calls are started than the pending-call
// limit allows, and a close lets go of the connection's heavy work that had not had its turn.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ErrorCode } from "../../src/protocol/errors.js";
import { Connection, type ConnectionLimits, type LineHandler } from "../../src/rpc/connection.js";
import { HeavyWorkGate } from "../../src/rpc/heavy-work-gate.js";
import { TurnScheduler } from "../../src/rpc/turn-scheduler.js";
import { tempHome, waitFor } from "../helpers/daemon.js";
import { rawConnect } from "../helpers/raw-socket.js";

const limits: ConnectionLimits = {
  maxMessageBytes: 1 << 16,
  maxUnsentBytes: 1 << 20,
  replyHighWaterBytes: 1 << 16,
  heavyHighWaterBytes: 1 << 14,
  partialLineTimeoutMs: 5_000,
  linesPerTurn: 64,
  maxPendingCalls: 256,
};

describe("Connection", () => {
  let dir: string;
  before(() => {
    dir = tempHome("cpwd-conn-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A socket server whose every connection is a Connection handing its lines to `handleLine`. */
  async function serve(name: string, handleLine: LineHandler, opts: { maxPendingCalls?: number; gate?: HeavyWorkGate } = {}) {
    const live: Connection[] = [];
    let closes = 0;
    const server = createServer((socket) => {
      const conn = new Connection(socket, {
        connectionId: live.length + 1,
        limits: { ...limits, maxPendingCalls: opts.maxPendingCalls ?? limits.maxPendingCalls },
        gate: opts.gate ?? new HeavyWorkGate(1),
        turns: new TurnScheduler(1_000),
        handleLine,
        log: { warn: () => {}, debug: () => {} },
        onClose: () => closes++,
      });
      live.push(conn);
    });
    const path = join(dir, `${name}.sock`);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
      path,
      live,
      closes: () => closes,
      close: () => {
        for (const c of live) c.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  test("lines split across chunks reach the handler whole and in order, and its replies go out framed", async () => {
    const s = await serve("echo", (text, _info, out) => {
      out.send({ echo: text });
      return 0;
    });
    try {
      const c = await rawConnect(s.path);
      c.send("fir");
      c.send("st\nsecond\r\n\nthi");
      c.send("rd\n");
      assert.deepEqual([await c.next(), await c.next(), await c.next()], [{ echo: "first" }, { echo: "second" }, { echo: "third" }]);
      c.close();
    } finally {
      await s.close();
    }
  });

  test("no line is handed on while the pending-call limit is reached; one settling lets the next through", async () => {
    const held: Array<() => void> = [];
    const seen: string[] = [];
    const s = await serve(
      "pending",
      (text, _info, _out, settled) => {
        seen.push(text);
        held.push(() => settled(1));
        return 1;
      },
      { maxPendingCalls: 2 },
    );
    try {
      const c = await rawConnect(s.path);
      c.send("a\nb\nc\n");
      await waitFor("two calls started", () => seen.length === 2);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ["a", "b"], "the third waits while two are unanswered");
      held.shift()!();
      await waitFor("the third call started", () => seen.length === 3);
      c.close();
    } finally {
      await s.close();
    }
  });

  test("heavy work still waiting for its turn when the connection closes is not run, and fails CONNECTION_CLOSED", async () => {
    const gate = new HeavyWorkGate(1);
    const s = await serve("heavy", () => 0, { gate });
    try {
      const c = await rawConnect(s.path);
      await waitFor("the connection is accepted", () => s.live.length === 1);
      const info = s.live[0]!.info;
      let finishFirst!: () => void;
      void info.runHeavy(() => new Promise<void>((resolve) => (finishFirst = resolve)));
      let secondRan = false;
      const second = info.runHeavy(async () => {
        secondRan = true;
      });
      c.close();
      await assert.rejects(second, (err: { code?: string }) => err.code === ErrorCode.ConnectionClosed);
      assert.equal(secondRan, false);
      await waitFor("the close was reported", () => s.closes() === 1);
      finishFirst();
    } finally {
      await s.close();
    }
  });
});
