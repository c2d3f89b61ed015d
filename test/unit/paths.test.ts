// Paths, configuration and argument parsing: the pure edges every command stands on.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseArgs } from "../../cli/args.js";
import { defaultConfig, loadConfig } from "../../src/platform/config.js";
import { resolveHome, resolvePaths, socketLocation } from "../../src/platform/paths.js";
import { CpwdError } from "../../src/protocol/errors.js";

const linux = (env: NodeJS.ProcessEnv = {}) => ({ env, platform: "linux" as const, home: "/home/u", uid: 1000 });

test("CPWD_HOME overrides; otherwise the platform's per-user state folder", () => {
  assert.equal(resolveHome(linux({ CPWD_HOME: "/x/y" })), "/x/y");
  assert.equal(resolveHome(linux()), "/home/u/.local/state/cpwd");
  assert.equal(resolveHome(linux({ XDG_STATE_HOME: "/s" })), "/s/cpwd");
  assert.equal(resolveHome({ env: {}, platform: "darwin", home: "/Users/u", uid: 501 }), "/Users/u/Library/Application Support/cpwd");
  assert.match(resolveHome({ env: { LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, platform: "win32", home: "C:\\Users\\u", uid: 0 }), /cpwd$/);
});

test("a socket path over the Unix limit becomes a short hashed one; Windows gets a named pipe", () => {
  const short = socketLocation("/home/u/.local/state/cpwd", linux());
  assert.equal(short.path, "/home/u/.local/state/cpwd/run/cpwd.sock");
  const longHome = `/home/u/${"deep/".repeat(30)}cpwd`;
  const long = socketLocation(longHome, linux());
  assert.ok(Buffer.byteLength(long.path) <= 103);
  assert.match(long.path, /^\/tmp\/cpwd-1000\/[0-9a-f]{16}\.sock$/);
  assert.notEqual(socketLocation(`${longHome}2`, linux()).path, long.path, "different homes, different sockets");
  const win = socketLocation("C:\\Users\\u\\AppData\\Local\\cpwd", { env: {}, platform: "win32", home: "C:\\Users\\u", uid: 0 });
  assert.match(win.path, /^\\\\\.\\pipe\\cpwd-[0-9a-f]{16}$/);
  assert.equal(resolvePaths(linux({ CPWD_HOME: "/h" })).events, "/h/events.jsonl");
});

test("config: absent means defaults; invalid JSON or a bad field is an error naming the file and field", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-cfg-"));
  try {
    const file = join(dir, "config.json");
    assert.deepEqual(loadConfig(file), defaultConfig());
    assert.equal(defaultConfig().maxParallel, 4);
    writeFileSync(file, '{"maxParallel": 2}');
    assert.equal(loadConfig(file).maxParallel, 2);
    writeFileSync(file, "{oops");
    assert.throws(() => loadConfig(file), (e: unknown) => e instanceof CpwdError && e.code === "INVALID_CONFIG" && /not valid JSON/.test(e.message));
    writeFileSync(file, '{"maxParallel": "many"}');
    assert.throws(() => loadConfig(file), /maxParallel/);
    writeFileSync(file, '{"maxParalel": 3}');
    assert.throws(() => loadConfig(file), /maxParalel|Unrecognized/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("args: flags, repeats, inline values, -- and clear errors", () => {
  const spec = { name: { kind: "string" as const }, env: { kind: "list" as const }, json: { kind: "bool" as const }, lines: { kind: "string" as const, short: "n" } };
  const p = parseArgs(["--name", "a", "--env", "K=1", "--env=L=2", "-n", "5", "pos", "--json", "--", "cmd", "--name"], spec);
  assert.deepEqual(p.flags, { name: "a", env: ["K=1", "L=2"], lines: "5", json: true });
  assert.deepEqual(p.positionals, ["pos"]);
  assert.deepEqual(p.rest, ["cmd", "--name"]);
  assert.throws(() => parseArgs(["--nope"], spec), /unknown option --nope/);
  assert.throws(() => parseArgs(["--name"], spec), /--name needs a value/);
  assert.throws(() => parseArgs(["--json=1"], spec), /takes no value/);
});
