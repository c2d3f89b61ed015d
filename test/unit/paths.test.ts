// Paths: the home folder per platform, and a socket path that fits the Unix limit (or a named pipe).
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveHome, resolvePaths, socketLocation } from "../../src/platform/paths.js";

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
