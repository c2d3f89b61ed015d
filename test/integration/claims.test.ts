// Claims end when their worker ends or on `cpwd release`; `cpwd claims` lists them.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor, waitGone, withDaemon } from "../helpers/daemon.js";
import { liveWorker, nodeFixture } from "../helpers/fixtures.js";

const pre = (file: string, session: string) => ({ hook_event_name: "PreToolUse", session_id: session, cwd: "/repo", tool_name: "Write", tool_input: { file_path: file, content: "x" } });

test("a worker's claims are released when it ends; cpwd claims and cpwd release", async () => {
  await withDaemon(async (d, c) => {
    // The editor runs until the test releases it: its end comes when the test says, not on a timer.
    const gate = join(d.home, "release-editor");
    const { worker } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `while [ ! -e ${gate} ]; do sleep 0.05; done`], name: "editor", cwd: "/", env: { PATH: process.env.PATH ?? "" } });
    const id = String(worker.id);
    await waitFor("the editor to run", async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "running");
    await c.call("hook.handle", { event: pre("/repo/a.ts", "ws"), workerId: id });
    await c.call("hook.handle", { event: pre("/repo/b.ts", "ws"), workerId: id });
    const other = await liveWorker(c);
    await c.call("hook.handle", { event: pre("/repo/c.ts", "other-ws"), workerId: other });
    const listed = cpwd(d.home, ["claims"]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+editor\\s+.*/repo/a\\.ts`));
    assert.equal(JSON.parse(cpwd(d.home, ["claims", "--json"]).stdout).length, 3);

    const released = cpwd(d.home, ["release", "/repo/c.ts"]);
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, /released \/repo\/c\.ts/);
    const none = cpwd(d.home, ["release", "/repo/nothing.ts"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /not claimed/);

    writeFileSync(gate, "");
    await waitFor("the worker's claims to go with it", async () => (await c.call("claims.list")).claims.length === 0, 10_000, 50);
    const log = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const reasons = log.filter((e) => e.type === "claim.released").map((e) => `${e.payload.path}:${e.payload.reason}`);
    assert.deepEqual(reasons.sort(), ["/repo/a.ts:worker exited", "/repo/b.ts:worker exited", "/repo/c.ts:cpwd release"]);
    // Once released, the conductor may write.
    const r = await c.call("hook.handle", { event: pre("/repo/a.ts", "conductor") });
    assert.deepEqual(r, {});
  });
});

test("claims survive a daemon restart (replayed from the log)", async () => {
  let d = await startDaemon();
  const home = d.home;
  try {
    let c = await d.client();
    const id = await liveWorker(c);
    await c.call("hook.handle", { event: pre("/repo/z.ts", "ws"), workerId: id });
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

test("an ended worker's id claims nothing: its late hook calls edit as a conductor's would", async () => {
  await withDaemon(async (d, c) => {
    const { worker } = await c.call("worker.spawn", { argv: nodeFixture("sleep.js", "50"), cwd: "/", env: {} } as never);
    const id = String(worker.id);
    await waitFor("the worker to exit", async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "exited", 10_000, 20);
    assert.deepEqual(await c.call("hook.handle", { event: pre("/repo/late.ts", "ws"), workerId: id }), {});
    assert.equal((await c.call("claims.list")).claims.length, 0);
  });
});

test("a worker that ends while the daemon is down: its claims go when the daemon starts, and the conductor hears of it", async () => {
  let d = await startDaemon();
  const home = d.home;
  try {
    let c = await d.client();
    // It ends while the daemon is down: released by the test once the daemon has stopped.
    const gate = join(home, "release-brief");
    const { worker } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `while [ ! -e ${gate} ]; do sleep 0.05; done`], name: "brief", cwd: "/", env: { PATH: process.env.PATH ?? "" } });
    const id = String(worker.id);
    await waitFor("brief to run", async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "running");
    const pid = Number((await c.call("worker.get", { target: id })).workers[0]!.pid);
    await c.call("hook.handle", { event: pre("/repo/k.ts", "ws"), workerId: id });
    // The conductor has heard everything so far: its cursor is set.
    await c.call("hook.handle", { event: { hook_event_name: "UserPromptSubmit", session_id: "cs", prompt: "go" } });
    c.close();
    await d.stop();
    writeFileSync(gate, "");
    await waitGone(pid);
    d = await startDaemon(home);
    c = await d.client();
    await waitFor("the claim to be released", async () => (await c.call("claims.list")).claims.length === 0, 10_000, 20);
    const r = await c.call("hook.handle", { event: pre("/repo/k.ts", "cs") });
    assert.deepEqual(r, {}, "the conductor may write the file");
    const news = await c.call("hook.handle", { event: { hook_event_name: "UserPromptSubmit", session_id: "cs", prompt: "and?" } });
    assert.match(String((news.output as any)?.hookSpecificOutput?.additionalContext), new RegExp(`${id} "brief" exited 0`));
    c.close();
    const released = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "claim.released");
    assert.deepEqual(released.map((e) => e.payload.reason), ["worker exited"]);
  } finally {
    await cleanup(d, home);
  }
});
