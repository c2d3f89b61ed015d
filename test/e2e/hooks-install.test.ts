// `cpwd hooks install` end to end: the settings it writes are what the real Claude Code CLI runs.
// After install a session's hook calls reach the daemon (a held file is denied, the skill is
// offered to the model); after uninstall the same session leaves no trace in events.jsonl.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon } from "../helpers/daemon.js";
import { claudeEnv, makeProject, runClaude } from "../helpers/claude.js";
import { startFakeApi, toolResults, toolThenText } from "../helpers/fake-messages-api.js";
import { liveWorker } from "../helpers/fixtures.js";

function events(file: string): any[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

test("the installed hooks run under the real Claude Code; uninstalled, they no longer do", async () => {
  const d = await startDaemon();
  const p = makeProject({ permissions: { allow: ["Bash(ls)"] } });
  const target = join(p.project, "held.ts");
  const api = await startFakeApi(toolThenText({ name: "Write", input: { file_path: target, content: "x\n" } }));
  try {
    const install = cpwd(d.home, ["hooks", "install", "--dir", p.project], { HOME: p.home });
    assert.equal(install.code, 0, install.stderr);

    const c = await d.client();
    const holder = await liveWorker(c);
    await c.call("hook.handle", { event: { hook_event_name: "PreToolUse", session_id: "worker-session", cwd: p.project, tool_name: "Write", tool_input: { file_path: target } }, workerId: holder });
    c.close();

    const env = claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" });
    const run = await runClaude({ cwd: p.project, prompt: "write held.ts", env });
    assert.equal(run.result?.subtype, "success", run.stderr);
    const session = run.result.session_id as string;
    assert.equal(existsSync(target), false, "the Write was denied");
    const denied = api.turns().find((r) => toolResults(r).length > 0)!;
    assert.match(JSON.stringify(toolResults(denied)[0]!.content), new RegExp(`${holder} holds .*held\\.ts`));
    // The skill is offered to the model by its description.
    assert.match(JSON.stringify(api.turns()[0]!.body), /Run work in parallel with cpwd workers/);
    const seen = new Set(events(d.paths.events).filter((e) => e.session === session && e.type.startsWith("hook.")).map((e) => e.type));
    for (const t of ["hook.SessionStart", "hook.UserPromptSubmit", "hook.PreToolUse", "hook.Stop"]) assert.ok(seen.has(t), `${t} in ${[...seen].join(", ")}`);

    const uninstall = cpwd(d.home, ["hooks", "uninstall", "--dir", p.project], { HOME: p.home });
    assert.equal(uninstall.code, 0, uninstall.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(p.project, ".claude", "settings.json"), "utf8")), { permissions: { allow: ["Bash(ls)"] } });
    const again = await runClaude({ cwd: p.project, prompt: "write held.ts", env });
    assert.equal(again.result?.subtype, "success", again.stderr);
    assert.equal(existsSync(target), true, "no hook, no block");
    assert.equal(events(d.paths.events).filter((e) => e.session === again.result.session_id).length, 0);
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(p.dir, { recursive: true, force: true });
  }
});
