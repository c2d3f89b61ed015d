// A spec or a path the daemon could not use is refused where it enters, with a plain sentence:
// over RPC (a relative, missing or non-folder cwd; a NUL byte in argv, env or a path; an env name
// that is empty or holds '=') and on the CLI (an empty PATH or --cwd). Nothing of it is recorded.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cpwd, shareDaemon, tempHome, withHome } from "../helpers/daemon.js";
import { nodeFixture } from "../helpers/fixtures.js";

const ENV = { PATH: process.env.PATH ?? "" };
const spec = (over: Record<string, unknown>) => ({ argv: nodeFixture("exit.js", "0"), cwd: "/", env: ENV, ...over });

describe("worker.spawn and claims.release refuse what cannot be used", () => {
  const shared = shareDaemon();

  /** Asserts that `params` is refused with `code` and a message matching `message`. */
  async function refused(method: string, params: unknown, code: string, message: RegExp): Promise<void> {
    await assert.rejects(shared.client.call(method as "worker.spawn", params as never), (err: any) => {
      assert.equal(err.code, code, `${JSON.stringify(params)}: ${err.message}`);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /ERR_|must be a string without null bytes|Invalid key/);
      return true;
    });
  }

  test("a cwd that is not absolute on this platform is refused as invalid params (a drive letter on POSIX too)", async () => {
    await refused("worker.spawn", spec({ cwd: "tmp" }), "INVALID_PARAMS", /cwd: must be an absolute path/);
    await refused("worker.spawn", spec({ cwd: "" }), "INVALID_PARAMS", /cwd: is empty/);
    if (process.platform !== "win32") await refused("worker.spawn", spec({ cwd: "C:/tmp" }), "INVALID_PARAMS", /cwd: must be an absolute path/);
  });

  test("a cwd that does not exist, or is not a folder, is refused before the worker gets an id", async () => {
    const home = tempHome("cpwd-cwd-");
    const file = join(home, "a-file");
    writeFileSync(file, "x");
    await refused("worker.spawn", spec({ cwd: join(home, "nope") }), "INVALID_ARGUMENT", new RegExp(`^cwd ${join(home, "nope")} does not exist$`));
    await refused("worker.spawn", spec({ cwd: file }), "INVALID_ARGUMENT", new RegExp(`^cwd ${file} is not a directory$`));
    assert.equal((await shared.client.call("worker.list")).workers.length, 0, "no worker was recorded");
    assert.equal(existsSync(join(shared.daemon.paths.workers, "W1")), false, "no worker folder");
    const { events } = await shared.client.call("events.read", { type: "worker." });
    assert.equal(events.length, 0, "no worker event");
    rmSync(home, { recursive: true, force: true });
  });

  test("a NUL byte in argv, cwd, an env name or an env value is refused, naming where", async () => {
    await refused("worker.spawn", spec({ argv: ["/bin/echo", "a\0b"] }), "INVALID_PARAMS", /argv\.1: contains a NUL byte/);
    await refused("worker.spawn", spec({ cwd: "/tmp\0x" }), "INVALID_PARAMS", /cwd: contains a NUL byte/);
    await refused("worker.spawn", spec({ env: { ...ENV, FOO: "a\0b" } }), "INVALID_PARAMS", /env\.FOO: contains a NUL byte/);
    await refused("worker.spawn", spec({ env: { ...ENV, "F\0O": "x" } }), "INVALID_PARAMS", /env: the name "F\\u0000O" contains a NUL byte/);
  });

  test("an env name that is empty or holds '=' is refused", async () => {
    await refused("worker.spawn", spec({ env: { ...ENV, "": "x" } }), "INVALID_PARAMS", /env: a variable has an empty name/);
    await refused("worker.spawn", spec({ env: { ...ENV, "A=B": "x" } }), "INVALID_PARAMS", /env: the name "A=B" contains '='/);
  });

  test("claims.release refuses a path that is empty, relative or holds a NUL byte", async () => {
    await refused("claims.release", { path: "" }, "INVALID_PARAMS", /path: is empty/);
    await refused("claims.release", { path: "src/a.ts" }, "INVALID_PARAMS", /path: must be an absolute path/);
    await refused("claims.release", { path: "/repo/a\0.ts" }, "INVALID_PARAMS", /path: contains a NUL byte/);
  });

  test("after all that, a good spec is W1", async () => {
    const { worker } = await shared.client.call("worker.spawn", spec({}));
    assert.equal(worker.id, "W1");
  });
});

describe("the CLI refuses an empty path or --cwd as a usage error", () => {
  test("cpwd release '' is refused, not taken as the current folder", () => withHome((home) => {
    const r = cpwd(home, ["release", ""]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^cpwd release: PATH is empty\nusage: cpwd release/);
  }));

  test("cpwd spawn and cpwd claude refuse an empty --cwd, and one that does not exist or is not a folder", () => withHome((home) => {
    const file = join(home, "a-file");
    writeFileSync(file, "x");
    for (const [cmd, tail] of [["spawn", ["--", "true"]], ["claude", ["hello"]]] as const) {
      const extra = { CPWD_CLAUDE_BIN: "/bin/true" };
      const empty = cpwd(home, [cmd, "--cwd", "", ...tail], extra);
      assert.equal(empty.code, 2, empty.stderr);
      assert.match(empty.stderr, new RegExp(`^cpwd ${cmd}: --cwd is empty\\nusage: cpwd ${cmd}`));
      const missing = cpwd(home, [cmd, "--cwd", join(home, "nope"), ...tail], extra);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, new RegExp(`^cpwd ${cmd}: --cwd ${join(home, "nope")} does not exist\\n`));
      const notDir = cpwd(home, [cmd, "--cwd", file, ...tail], extra);
      assert.equal(notDir.code, 2, notDir.stderr);
      assert.match(notDir.stderr, new RegExp(`^cpwd ${cmd}: --cwd ${file} is not a directory\\n`));
    }
  }));
});
