// Claims end when their worker ends or on `cpwd release`; `cpwd claims` lists them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor } from "../helpers/daemon.js";
import { nodeFixture } from "../helpers/fixtures.js";

const pre = (file: string, session: string) => ({ hook_event_name: "PreToolUse", session_id: session, cwd: "/repo", tool_name: "Write", tool_input: { file_path: file, content: "x" } });

test("a worker's claims are released when it ends; cpwd claims and cpwd release", async () => {
  const d = await startDaemon();
  const c = await d.client();
  try {
    const { worker } = await c.call("worker.spawn", { argv: nodeFixture("sleep.js", "700"), name: "editor", cwd: "/", env: {} } as never);
    const id = String(worker.id);
    await c.call("hook.handle", { event: pre("/repo/a.ts", "ws"), workerId: id });
    await c.call("hook.handle", { event: pre("/repo/b.ts", "ws"), workerId: id });
    await c.call("hook.handle", { event: pre("/repo/c.ts", "other-ws"), workerId: "W99" });
    const listed = cpwd(d.home, ["claims"]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+editor\\s+.*/repo/a\\.ts`));
    assert.equal(JSON.parse(cpwd(d.home, ["claims", "--json"]).stdout).length, 3);

    const released = cpwd(d.home, ["release", "/repo/c.ts"]);
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, /released \/repo\/c\.ts/);
    const none = cpwd(d.home, ["release", "/repo/nothing.ts"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /not claimed/);

    await waitFor("the worker's claims to go with it", async () => (await c.call("claims.list")).claims.length === 0, 10_000, 50);
    const log = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const reasons = log.filter((e) => e.type === "claim.released").map((e) => `${e.payload.path}:${e.payload.reason}`);
    assert.deepEqual(reasons.sort(), ["/repo/a.ts:worker exited", "/repo/b.ts:worker exited", "/repo/c.ts:cpwd release"]);
    // Once released, the conductor may write.
    const r = await c.call("hook.handle", { event: pre("/repo/a.ts", "conductor") });
    assert.deepEqual(r, {});
  } finally {
    c.close();
    await cleanup(d);
  }
});

test("claims survive a daemon restart (replayed from the log)", async () => {
  let d = await startDaemon();
  const home = d.home;
  try {
    let c = await d.client();
    await c.call("hook.handle", { event: pre("/repo/z.ts", "ws"), workerId: "W42" });
    c.close();
    await d.stop();
    d = await startDaemon(home);
    c = await d.client();
    const r = await c.call("hook.handle", { event: pre("/repo/z.ts", "conductor") });
    assert.equal((r.output as any).hookSpecificOutput.permissionDecision, "deny");
    c.close();
  } finally {
    await cleanup(d, home);
  }
});
