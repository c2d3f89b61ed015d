// Through the real daemon: a worker's claim goes when Claude Code says the edit that took it did
// not happen (PermissionDenied, PostToolUseFailure), so nobody is blocked by an edit that never came.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { cleanup, startDaemon } from "../helpers/daemon.js";
import { liveWorker } from "../helpers/fixtures.js";

const hook = (event: string, file: string, toolUseId: string, extra: Record<string, unknown> = {}) => ({
  hook_event_name: event,
  session_id: "worker-session",
  cwd: "/repo",
  tool_name: "Write",
  tool_input: { file_path: file, content: "x" },
  tool_use_id: toolUseId,
  ...extra,
});

test("PermissionDenied and PostToolUseFailure release the claim their edit took; the conductor may then write", async () => {
  const d = await startDaemon();
  const c = await d.client();
  try {
    const id = await liveWorker(c, "editor");
    for (const [file, toolUseId] of [["/repo/refused.ts", "toolu_r"], ["/repo/failed.ts", "toolu_f"], ["/repo/kept.ts", "toolu_k"]] as const) {
      await c.call("hook.handle", { event: hook("PreToolUse", file, toolUseId), workerId: id });
    }
    assert.equal((await c.call("claims.list")).claims.length, 3);
    await c.call("hook.handle", { event: hook("PermissionDenied", "/repo/refused.ts", "toolu_r", { reason: "auto mode said no" }), workerId: id });
    await c.call("hook.handle", { event: hook("PostToolUseFailure", "/repo/failed.ts", "toolu_f", { error: "EACCES" }), workerId: id });
    // A success leaves its claim; so does a failure of a call that took none.
    await c.call("hook.handle", { event: hook("PostToolUse", "/repo/kept.ts", "toolu_k"), workerId: id });
    await c.call("hook.handle", { event: hook("PostToolUseFailure", "/repo/kept.ts", "toolu_other"), workerId: id });

    assert.deepEqual((await c.call("claims.list")).claims.map((x: { path: string }) => x.path), ["/repo/kept.ts"]);
    const log = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const released = log.filter((e) => e.type === "claim.released").map((e) => `${e.payload.path}: ${e.payload.reason}`);
    assert.deepEqual(released, ["/repo/refused.ts: the edit was refused", "/repo/failed.ts: the edit failed"]);
    assert.equal(log.find((e) => e.type === "claim.acquired" && e.payload.path === "/repo/refused.ts").payload.toolUseId, "toolu_r");
    assert.ok(log.some((e) => e.type === "hook.PermissionDenied" && e.worker === id && e.payload.filePath === "/repo/refused.ts"));
    const conductor = await c.call("hook.handle", { event: { ...hook("PreToolUse", "/repo/refused.ts", "toolu_c"), session_id: "conductor" } });
    assert.deepEqual(conductor, {}, "the conductor is not blocked by the edit that never came");
  } finally {
    c.close();
    await cleanup(d);
  }
});
