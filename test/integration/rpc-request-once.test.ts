// requestOnce, the CLI's one-request path (`cpwd status`): it answers and fails as RpcClient.call
// would, against the real daemon and against fake servers that hang up, stay silent or say more.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import { requestOnce } from "../../src/rpc/request-once.js";
import { shareDaemon } from "../helpers/daemon.js";

const dir = mkdtempSync(join(tmpdir(), "cpwd-once-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake daemon on a socket of its own; `onLine` gets each request line. */
async function fakeServer(name: string, onLine: (socket: Socket, line: string) => void): Promise<{ path: string; server: Server }> {
  const path = join(dir, `${name}.sock`);
  const server = createServer((socket) => {
    let text = "";
    socket.on("data", (c) => {
      text += c.toString();
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n")) {
        onLine(socket, text.slice(0, nl));
        text = text.slice(nl + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isCpwdError(err), `a CpwdError, not ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe("requestOnce against the daemon", () => {
  const shared = shareDaemon();

  test("answers with the method's result", async () => {
    const status = await requestOnce(shared.daemon.paths.socket, "status");
    assert.equal(status.daemon.pid, shared.daemon.pid);
  });

  test("a refused request comes back with the daemon's code and the wire code", async () => {
    const err = (await rejectsWith(requestOnce(shared.daemon.paths.socket, "events.read", { fromSeq: -1 } as never), ErrorCode.InvalidParams)) as Error & { details?: { rpcCode?: number } };
    assert.equal(err.details?.rpcCode, -32602);
  });
});

test("requestOnce says the daemon is not running when nobody listens", async () => {
  await rejectsWith(requestOnce(join(dir, "nobody.sock"), "ping"), ErrorCode.DaemonNotRunning);
});

test("requestOnce says the connection closed when the server hangs up before it answers", async () => {
  const { path, server } = await fakeServer("hangs-up", (socket) => socket.destroy());
  try {
    await rejectsWith(requestOnce(path, "ping"), ErrorCode.ConnectionClosed);
  } finally {
    server.close();
  }
});

test("requestOnce gives up with REQUEST_TIMEOUT when no reply comes", async () => {
  const { path, server } = await fakeServer("silent", () => {});
  try {
    await rejectsWith(requestOnce(path, "ping", undefined, { timeoutMs: 200 }), ErrorCode.RequestTimeout);
  } finally {
    server.close();
  }
});

test("requestOnce skips a notification and reads a reply split across writes", async () => {
  const { path, server } = await fakeServer("chatty", (socket, line) => {
    const { id } = JSON.parse(line) as { id: number };
    socket.write('{"jsonrpc":"2.0","method":"events.batch","params":{}}\n{"jsonrpc":"2.0","id":');
    setTimeout(() => socket.write(`${id},"result":{"pong":true}}\n`), 20);
  });
  try {
    assert.deepEqual(await requestOnce(path, "ping"), { pong: true });
  } finally {
    server.close();
  }
});
