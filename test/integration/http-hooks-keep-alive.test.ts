// HTTP hooks over one kept connection, as Claude Code sends them (one connection a session): the
// daemon keeps a connection whose hook it answered, closes one it refused, and a call sent on a kept
// connection while the daemon was stopped, idle for longer than any timeout, is answered and
// recorded once it runs again (an idle-connection timer firing before the socket is read would
// destroy it unread).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { readHookEndpoint, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { cleanup, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One TCP connection to the endpoint, carrying HTTP/1.1 requests one after the other. */
class RawConnection {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, c]);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawConnection(s)));
      s.once("error", reject);
    });
  }

  send(token: string, body: string): void {
    const head = `POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    this.socket.write(head + body);
  }

  /** The next whole reply on the connection; rejects if it closes first. */
  async reply(): Promise<RawReply> {
    for (;;) {
      const end = this.buffered.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [statusLine, ...lines] = this.buffered.subarray(0, end).toString("latin1").split("\r\n");
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
        const length = Number(headers["content-length"] ?? 0);
        if (this.buffered.length >= end + 4 + length) {
          const body = this.buffered.subarray(end + 4, end + 4 + length).toString("utf8");
          this.buffered = this.buffered.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(" ")[1]), headers, body };
        }
      }
      if (this.closed) throw new Error("the connection closed before a whole reply");
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = null;
    }
  }

  /** Resolves once the daemon has closed the connection. */
  async ended(): Promise<void> {
    while (!this.closed) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = null;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const call = (i: number) => JSON.stringify({ hook_event_name: "PreToolUse", session_id: "keep-alive", cwd: "/", tool_name: "Read", tool_use_id: `toolu_${i}`, tool_input: { file_path: `/tmp/f${i}` } });

/** The hook.PreToolUse events of the test's session in the record, by toolUseId. */
function recordedCalls(d: TestDaemon): string[] {
  return readFileSync(d.paths.events, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === "hook.PreToolUse" && e.session === "keep-alive")
    .map((e) => e.payload.toolUseId);
}

async function withDaemon(body: (d: TestDaemon, ep: HookEndpoint) => Promise<void>): Promise<void> {
  const d = await startDaemon(tempHome());
  try {
    await body(d, readHookEndpoint(d.paths.hookEndpoint)!);
  } finally {
    process.kill(d.pid, "SIGCONT");
    await cleanup(d);
  }
}

test("hook calls share one connection; a refused call closes it", async () => {
  await withDaemon(async (d, ep) => {
    const conn = await RawConnection.open(ep.port);
    try {
      for (let i = 0; i < 3; i++) {
        conn.send(ep.token, call(i));
        const r = await conn.reply();
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), {});
        assert.notEqual(r.headers.connection, "close", `call ${i} kept the connection`);
        assert.equal(r.headers["keep-alive"], undefined, "no idle timeout is announced");
      }
      assert.deepEqual(recordedCalls(d), ["toolu_0", "toolu_1", "toolu_2"]);
      conn.send("0".repeat(64), call(3));
      const refused = await conn.reply();
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.connection, "close");
      await conn.ended();
      assert.deepEqual(recordedCalls(d), ["toolu_0", "toolu_1", "toolu_2"], "the refused call is not recorded");
    } finally {
      conn.destroy();
    }
  });
});

test("a call sent on a kept connection while the daemon is stopped is answered and recorded when it continues", async () => {
  await withDaemon(async (d, ep) => {
    const conn = await RawConnection.open(ep.port);
    try {
      conn.send(ep.token, call(0));
      assert.equal((await conn.reply()).status, 200);
      process.kill(d.pid, "SIGSTOP");
      // Idle past every timeout the server has (headers 2 s, request 5 s; Node's default keep-alive 5 s).
      await sleep(6_000);
      conn.send(ep.token, call(1));
      process.kill(d.pid, "SIGCONT");
      const r = await conn.reply();
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), {});
      await waitFor("the call in the record", () => recordedCalls(d).includes("toolu_1"));
      assert.deepEqual(recordedCalls(d), ["toolu_0", "toolu_1"]);
    } finally {
      conn.destroy();
    }
  });
});
