// `cpwd status` (the table) and `cpwd claims` with the daemon down: read from the record on disk,
// said so on stderr, exit 0; `--json` says `fromRecord`.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor } from "../helpers/daemon.js";

const pre = (file: string) => ({ hook_event_name: "PreToolUse", session_id: "s1", cwd: "/repo", tool_name: "Write", tool_input: { file_path: file, content: "x" } });

test("with the daemon down, status and claims replay the record and say the daemon is not running", async () => {
  const d = await startDaemon();
  const gate = join(d.home, "let-the-editor-go");
  try {
    const c = await d.client();
    const state = async (id: string) => (await c.call("worker.get", { target: id })).workers[0]?.state;
    // One worker that has ended, one that runs until the gate is made (it outlives the daemon).
    const { worker: done } = await c.call("worker.spawn", { argv: ["sh", "-c", "echo a; echo b >&2; exit 4"], name: "quitter", cwd: "/", env: { PATH: process.env.PATH ?? "" } });
    const { worker: editor } = await c.call("worker.spawn", { argv: ["sh", "-c", `while [ ! -e ${gate} ]; do sleep 0.05; done`], name: "editor", cwd: "/", env: { PATH: process.env.PATH ?? "" } });
    await waitFor("the quitter to fail", async () => (await state(String(done.id))) === "failed");
    await waitFor("the editor to run", async () => (await state(String(editor.id))) === "running");
    await c.call("hook.handle", { event: pre("/repo/a.ts"), workerId: String(editor.id) });
    const online = cpwd(d.home, ["claims", "--json"]);
    c.close();
    await d.stop();

    const table = cpwd(d.home, ["status"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stderr, /^cpwd status: the daemon is not running \(home .*\); the workers as the record on disk has them\n$/);
    assert.match(table.stdout, /not running/);
    assert.match(table.stdout, /^W1 +quitter +failed/m);
    assert.match(table.stdout, /^W2 +editor +running/m);

    const json = cpwd(d.home, ["status", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as { daemon: null; fromRecord: boolean; lastSeq: number; workers: Array<{ id: string; state: string; exitCode: number | null }> };
    assert.equal(s.daemon, null);
    assert.equal(s.fromRecord, true);
    assert.ok(s.lastSeq > 0);
    assert.deepEqual(s.workers.map((w) => [w.id, w.state, w.exitCode]), [["W1", "failed", 4], ["W2", "running", null]]);

    const claims = cpwd(d.home, ["claims"]);
    assert.equal(claims.code, 0, claims.stderr);
    assert.match(claims.stderr, /^cpwd claims: the daemon is not running \(home .*\); the claims of workers that have not ended, from the record on disk\n$/);
    assert.match(claims.stdout, /^W2 +editor +\S+ +\/repo\/a\.ts$/m);
    const claimsJson = cpwd(d.home, ["claims", "--json"]);
    assert.equal(claimsJson.code, 0, claimsJson.stderr);
    const offline = JSON.parse(claimsJson.stdout) as Array<Record<string, unknown>>;
    const { heldMs: _a, ...was } = (JSON.parse(online.stdout) as Array<Record<string, unknown>>)[0]!;
    const { heldMs: _b, fromRecord, ...is } = offline[0]!;
    assert.equal(offline.length, 1);
    assert.equal(fromRecord, true);
    assert.deepEqual(is, was, "the same claim as the daemon listed");
  } finally {
    writeFileSync(gate, "");
    await cleanup(d);
  }
});
