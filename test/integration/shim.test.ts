// The compiled hook shim against the real daemon: claims that block, fail-open and fail-closed
// when the daemon is down or hung, the fallback log, and autostart.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { probeDaemon } from "../../src/rpc/probe.js";
import { DAEMON_NODE_FLAGS } from "../../src/platform/daemon-launch.js";
import { cleanup, DAEMON, pathsFor, startDaemon, tempHome, waitFor, waitGone, withDaemon, withHome } from "../helpers/daemon.js";
import { commandLine } from "../helpers/kill.js";
import { liveWorker } from "../helpers/fixtures.js";
import { preWrite, runShim } from "../helpers/shim.js";

function events(file: string): any[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** A live worker whose Write of `path` went through the daemon, so it holds the claim; its id. */
async function workerHolding(c: RpcClient, path: string): Promise<string> {
  const holder = await liveWorker(c);
  await c.call("hook.handle", { event: preWrite("worker-session", path), workerId: holder });
  return holder;
}

describe("with the daemon up", () => {
  test("a worker's Write claims the file; a conductor's Write to it is denied with a reason naming the holder", () => withDaemon(async (d, c) => {
    const [w1, w2] = [await liveWorker(c), await liveWorker(c)];
    const mine = await runShim(d.home, preWrite("worker-session", "src/a.ts"), { CPWD_WORKER_ID: w1 });
    assert.equal(mine.code, 0);
    assert.equal(mine.stdout, "", "allowed: nothing printed");
    const again = await runShim(d.home, preWrite("worker-session", "/repo/src/a.ts"), { CPWD_WORKER_ID: w1 });
    assert.equal(again.stdout, "", "the holder may keep editing");
    const conductor = await runShim(d.home, preWrite("conductor", "/repo/src/../src/a.ts"));
    assert.equal(conductor.code, 0);
    const out = conductor.json.hookSpecificOutput;
    assert.equal(out.hookEventName, "PreToolUse");
    assert.equal(out.permissionDecision, "deny");
    assert.match(out.permissionDecisionReason, new RegExp(`${w1} holds /repo/src/a\\.ts since \\d+s ago`));
    assert.match(out.permissionDecisionReason, /cpwd status/);
    const other = await runShim(d.home, preWrite("w8-session", "/repo/src/a.ts"), { CPWD_WORKER_ID: w2 });
    assert.equal(other.json.hookSpecificOutput.permissionDecision, "deny");
    const free = await runShim(d.home, preWrite("conductor", "/repo/src/b.ts"));
    assert.equal(free.stdout, "");

    const { claims } = await c.call("claims.list");
    assert.deepEqual(claims.map((x) => [x.path, x.worker]), [["/repo/src/a.ts", w1]]);
    const log = events(d.paths.events);
    assert.equal(log.filter((e) => e.type === "claim.acquired").length, 1);
    assert.equal(log.filter((e) => e.type === "claim.denied").length, 2);
    const hookEvents = log.filter((e) => e.type === "hook.PreToolUse");
    assert.equal(hookEvents.length, 5);
    assert.ok(hookEvents.every((e) => e.payload.content === undefined && !JSON.stringify(e).includes('"content"')), "no file contents in the record");
    assert.equal(hookEvents.filter((e) => e.payload.decision === "deny").length, 2);
  }));

  test("a Write of megabytes to a held file is denied like any other (2 MiB over the RPC limit, 5 MiB over stdin's)", () => withDaemon(async (d, c) => {
    const holder = await workerHolding(c, "/repo/big.ts");
    for (const mib of [2, 5]) {
      const input = { ...preWrite("conductor", "/repo/big.ts"), tool_input: { file_path: "/repo/big.ts", content: "z".repeat(mib * 1024 * 1024) } };
      const r = await runShim(d.home, input);
      assert.equal(r.code, 0);
      assert.equal(r.json?.hookSpecificOutput?.permissionDecision, "deny", `${mib} MiB: ${r.stdout}`);
      assert.match(r.json.hookSpecificOutput.permissionDecisionReason, new RegExp(`${holder} holds /repo/big\\.ts`));
    }
    const log = events(d.paths.events);
    assert.equal(log.filter((e) => e.type === "claim.denied").length, 2);
    assert.ok(log.length < 100 && readFileSync(d.paths.events).length < 64 * 1024, "no content in the record");
  }));

  test("a CPWD_WORKER_ID that is not a live worker's edits as a conductor: no error, no claim", () => withDaemon(async (d, c) => {
    await workerHolding(c, "/repo/held.ts");
    for (const id of ["not-an-id", "W999"]) {
      const held = await runShim(d.home, preWrite(`s-${id}`, "/repo/held.ts"), { CPWD_WORKER_ID: id });
      assert.equal(held.json?.hookSpecificOutput?.permissionDecision, "deny", id);
      const free = await runShim(d.home, preWrite(`s-${id}`, `/repo/free-${id}.ts`), { CPWD_WORKER_ID: id });
      assert.equal(free.stdout, "", id);
    }
    assert.deepEqual((await c.call("claims.list")).claims.map((x: any) => x.path), ["/repo/held.ts"]);
    assert.equal(events(d.paths.events).filter((e) => e.payload?.daemonDown).length, 0, "answered by the daemon, not the fallback");
  }));

  test("unknown hook events and unknown fields pass through harmlessly", () => withDaemon(async (d) => {
    const r = await runShim(d.home, { session_id: "s", hook_event_name: "SomethingNew", cwd: "/", brand_new: [1, 2] });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.ok(events(d.paths.events).some((e) => e.type === "hook.SomethingNew"));
  }));
});

describe("with the daemon down or broken", () => {
  test("the shim allows, exits 0 fast, and the event reaches events.jsonl once the daemon starts", async () => {
    const home = tempHome();
    let d;
    try {
      const r = await runShim(home, preWrite("s1", "/repo/x.ts"));
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, "");
      const fb = events(pathsFor(home).fallback);
      assert.equal(fb.length, 1);
      assert.equal(fb[0].type, "hook.PreToolUse");
      assert.equal(fb[0].payload.filePath, "/repo/x.ts");
      d = await startDaemon(home);
      await d.stop();
      const ingested = events(pathsFor(home).events).filter((e) => e.type === "hook.PreToolUse");
      assert.equal(ingested.length, 1);
      assert.equal(ingested[0].source, "fallback");
      assert.equal(ingested[0].session, "s1");
    } finally {
      await cleanup(d, home);
    }
  });

  test("what the daemon takes in from the fallback log at start reaches its areas at once (a subagent started while it was down is in status)", async () => {
    const home = tempHome();
    let d;
    try {
      const start = { session_id: "s1", hook_event_name: "SubagentStart", agent_id: "a1", agent_type: "Explore", cwd: "/repo", transcript_path: "/tmp/none.jsonl" };
      assert.equal((await runShim(home, start)).code, 0);
      assert.equal(events(pathsFor(home).fallback).length, 1);
      d = await startDaemon(home);
      const c = await d.client();
      const native = ((await c.call("status")) as any).native;
      c.close();
      assert.deepEqual(native.subagents.map((a: any) => [a.agentId, a.state]), [["a1", "running"]], "no restart needed to see it");
    } finally {
      await cleanup(d, home);
    }
  });

  test("fail-closed denies a PreToolUse with a reason when the daemon is down", () => withHome(async (home) => {
    const r = await runShim(home, preWrite("s1", "/repo/x.ts"), { CPWD_HOOK_FAIL_CLOSED: "1" });
    assert.equal(r.code, 0);
    assert.equal(r.json.hookSpecificOutput.permissionDecision, "deny");
    assert.match(r.json.hookSpecificOutput.permissionDecisionReason, /fail-closed/);
    const other = await runShim(home, { session_id: "s1", hook_event_name: "Stop" }, { CPWD_HOOK_FAIL_CLOSED: "1" });
    assert.equal(other.stdout, "", "only PreToolUse is ever denied");
    // Too large to read whole, still known to be a PreToolUse: denied too.
    const huge = await runShim(home, { ...preWrite("s1", "/repo/x.ts"), tool_input: { file_path: "/repo/x.ts", content: "z".repeat(5 * 1024 * 1024) } }, { CPWD_HOOK_FAIL_CLOSED: "1" });
    assert.equal(huge.json?.hookSpecificOutput?.permissionDecision, "deny");
  }));

  test("a daemon that accepts and never answers costs at most the budget", () => withHome(async (home) => {
    const paths = pathsFor(home);
    mkdirSync(paths.socketDir, { recursive: true });
    const hung = createServer(() => {}).listen(paths.socket);
    await new Promise((r) => hung.once("listening", r));
    try {
      const r = await runShim(home, preWrite("s1", "/repo/x.ts"), { CPWD_HOOK_BUDGET_MS: "400" });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "");
      assert.equal(events(paths.fallback)[0].payload.why, "daemon did not answer in time");
    } finally {
      hung.close();
    }
  }));

  test("bad stdin (not JSON, no event name, or stdin never closed) is allowed quietly", () => withHome(async (home) => {
    for (const bad of ["{nope", "[1,2]", '{"session_id":"x"}']) {
      const r = await runShim(home, bad);
      assert.equal(r.code, 0, bad);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, "");
    }
    assert.equal(events(pathsFor(home).fallback).length, 3);
  }));

  test("16 shims at once with the daemon down leave 16 whole lines", () => withHome(async (home) => {
    const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => runShim(home, preWrite(`s${i}`, `/repo/f${i}.ts`))));
    assert.ok(runs.every((r) => r.code === 0));
    const fb = events(pathsFor(home).fallback);
    assert.equal(fb.length, 16);
    assert.equal(new Set(fb.map((e) => e.session)).size, 16);
  }));

  test("with autostart on, the shim starts the daemon without waiting for it", () => withHome(async (home) => {
    const paths = pathsFor(home);
    let pid: number | undefined;
    try {
      const r = await runShim(home, preWrite("s1", "/repo/x.ts"), { CPWD_AUTOSTART: "1" });
      assert.equal(r.code, 0);
      const up = await waitFor("the autostarted daemon", () => probeDaemon(paths.socket, 200));
      pid = up.pid;
      // The daemon as `cpwd start` runs it: its own entry and flags, not the CLI.
      assert.equal(commandLine(pid!), [process.execPath, ...DAEMON_NODE_FLAGS, DAEMON].join(" "));
      // It ingested the event the shim wrote while it was down.
      await waitFor("the fallback event", () => events(paths.events).some((e) => e.type === "hook.PreToolUse" && e.source === "fallback"));
    } finally {
      if (pid) {
        process.kill(pid, "SIGTERM");
        await waitGone(pid);
      }
    }
  }));
});
