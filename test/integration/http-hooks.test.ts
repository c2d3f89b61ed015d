// The daemon's HTTP hook endpoint (POST /hook on 127.0.0.1): the same hook.handle the shim
// reaches, behind a 0600 token; wrong tokens, other paths and methods, oversized, deep and slow
// requests refused; port and token kept across restarts.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { readHookEndpoint, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { cleanup, shareDaemon, startDaemon, tempHome, waitFor } from "../helpers/daemon.js";
import { liveWorker } from "../helpers/fixtures.js";

interface HttpReply {
  status: number;
  body: string;
}

/** POSTs `body` to the endpoint (or `path` with `method`); `token` null sends no Authorization. */
function post(ep: HookEndpoint, body: string | Buffer, opts: { token?: string | null; path?: string; method?: string; headers?: Record<string, string> } = {}): Promise<HttpReply> {
  const token = opts.token === undefined ? ep.token : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: ep.port, path: opts.path ?? "/hook", method: opts.method ?? "POST", headers: { "content-type": "application/json", ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...opts.headers } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer and close before the whole of a refused body is sent.
    req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "EPIPE" || (err as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve({ status: -1, body: "" }) : reject(err)));
    req.end(body);
  });
}

function events(file: string): any[] {
  return readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("HTTP hooks", () => {
  const shared = shareDaemon();
  const endpoint = () => readHookEndpoint(shared.daemon.paths.hookEndpoint)!;
  const write = (file: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ hook_event_name: "PreToolUse", session_id: "http-session", cwd: "/", tool_name: "Write", tool_input: { file_path: file, content: "x" }, ...extra });

  test("the daemon writes hook-http.json, 0600, with a loopback port and a 64-hex token", () => {
    const file = shared.daemon.paths.hookEndpoint;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const ep = endpoint();
    assert.match(ep.token, /^[0-9a-f]{64}$/);
    assert.ok(ep.port > 0);
  });

  test("a conductor's Write to a file a worker holds is denied over HTTP, and recorded as the shim's would be", async () => {
    const holder = await liveWorker(shared.client);
    const file = `/tmp/cpwd-http-${process.pid}/held.ts`;
    const claimed = await post(endpoint(), write(file), { headers: { "x-cpwd-worker": holder } });
    assert.equal(claimed.status, 200);
    assert.deepEqual(JSON.parse(claimed.body), {}, "the holder's own edit is allowed");
    const denied = await post(endpoint(), write(file), { headers: { "x-cpwd-worker": "" } });
    assert.equal(denied.status, 200);
    const out = JSON.parse(denied.body);
    assert.equal(out.hookSpecificOutput.permissionDecision, "deny");
    assert.match(out.hookSpecificOutput.permissionDecisionReason, new RegExp(`${holder} holds ${file}`));
    const log = events(shared.daemon.paths.events);
    assert.ok(log.some((e) => e.type === "claim.acquired" && e.worker === holder && e.payload.path === file));
    assert.ok(log.some((e) => e.type === "hook.PreToolUse" && e.session === "http-session" && e.payload.decision === "deny" && e.payload.filePath === file));
    assert.ok(!JSON.stringify(log).includes('"content"'), "the tool input's content stays out of the record");

    // A Write larger than the message limit is still denied: its path is read from the body's head.
    const huge = await post(endpoint(), write(file, { tool_input: { file_path: file, content: "y".repeat(3 * 1024 * 1024) } }));
    assert.equal(huge.status, 200);
    assert.equal(JSON.parse(huge.body).hookSpecificOutput.permissionDecision, "deny");
  });

  test("a wrong or missing token is refused with 401 and no detail, and nothing is recorded", async () => {
    const before = readFileSync(shared.daemon.paths.events, "utf8").length;
    const ep = endpoint();
    for (const token of [null, "0".repeat(64), `${ep.token}0`, ep.token.slice(1)]) {
      const r = await post(ep, write("/tmp/x"), { token });
      assert.equal(r.status, 401);
      assert.equal(r.body, "");
    }
    const basic = await post(ep, write("/tmp/x"), { token: null, headers: { authorization: `Basic ${ep.token}` } });
    assert.equal(basic.status, 401);
    assert.equal(readFileSync(shared.daemon.paths.events, "utf8").length, before);
  });

  test("only POST /hook is served", async () => {
    assert.equal((await post(endpoint(), "", { method: "GET" })).status, 405);
    assert.equal((await post(endpoint(), write("/tmp/x"), { path: "/other" })).status, 404);
    assert.equal((await post(endpoint(), write("/tmp/x"), { path: "/hook/../rpc" })).status, 404);
  });

  test("bodies that are not a hook, too deep, or too large are refused", async () => {
    assert.equal((await post(endpoint(), "not json")).status, 400);
    assert.equal((await post(endpoint(), JSON.stringify({ no: "event" }))).status, 400);
    assert.equal((await post(endpoint(), `${"[".repeat(20_000)}${"]".repeat(20_000)}`)).status, 400);
    // Over the 1 MiB limit with no event name in its head: nothing to salvage.
    assert.equal((await post(endpoint(), JSON.stringify({ padding: "z".repeat(2 * 1024 * 1024), hook_event_name: "PreToolUse" }))).status, 413);
    // Declared far past the cap: refused before a byte of it is read.
    const r = await new Promise<number>((resolve) => {
      const req = request({ host: "127.0.0.1", port: endpoint().port, path: "/hook", method: "POST", headers: { authorization: `Bearer ${endpoint().token}`, "content-length": String(1024 ** 3) } }, (res) => resolve(res.statusCode ?? 0));
      req.on("error", () => resolve(-1));
      req.write("{");
    });
    assert.equal(r, 413);
  });

  test("a client that never finishes its headers is disconnected", async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const s = netConnect(endpoint().port, "127.0.0.1", () => s.write("POST /hook HTTP/1.1\r\nHost: x\r\n"));
      s.on("data", () => {});
      s.on("close", () => resolve());
      s.on("error", () => {});
    });
    assert.ok(Date.now() - started < 8_000, `closed after ${Date.now() - started} ms`);
  });
});

test("the port and token are kept across a restart", async () => {
  const home = tempHome();
  let d = await startDaemon(home);
  try {
    const first = readHookEndpoint(d.paths.hookEndpoint)!;
    await d.stop();
    d = await startDaemon(home);
    assert.deepEqual(readHookEndpoint(d.paths.hookEndpoint), first);
    const r = await post(first, JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s", prompt: "hi" }));
    assert.equal(r.status, 200);
    await waitFor("the call in the record", () => existsSync(d.paths.events) && events(d.paths.events).some((e) => e.type === "hook.UserPromptSubmit" && e.payload.promptChars === 2));
  } finally {
    await cleanup(d);
  }
});
