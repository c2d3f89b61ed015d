// `cpwd hooks install --transport http` under the real Claude Code CLI, offline against the fake
// Messages API: PreToolUse, PostToolUse and UserPromptSubmit reach the daemon as HTTP requests
// (no process), a held file's Write is denied with the reason in the model's tool_result, a
// worker's news reaches the next request, the calls are in events.jsonl; a wrong token is refused;
// with the daemon down the calls are lost (fail-open) or the tool refused (fail-closed).
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { claudeEnv, makeProject, runClaude } from "../helpers/claude.js";
import { allText, startFakeApi, toolResults, toolThenText, toolsThenText } from "../helpers/fake-messages-api.js";
import { liveWorker } from "../helpers/fixtures.js";

function events(file: string): any[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

function localSettings(project: string): any {
  return JSON.parse(readFileSync(join(project, ".claude", "settings.local.json"), "utf8"));
}

test("with --transport http a conductor's Write to a held file is denied, news arrives, and the calls are recorded", async () => {
  const d = await startDaemon();
  const p = makeProject({});
  const target = join(p.project, "held.ts");
  const release = join(p.dir, "release");
  // Bash first (the builder ends while it runs: news in its PostToolUse), then the Write.
  const wait = `touch ${release}; while ! grep -q '"type":"worker.exited"' ${d.paths.events}; do sleep 0.05; done`;
  const api = await startFakeApi(toolsThenText([
    { name: "Bash", input: { command: wait, description: "wait" } },
    { name: "Write", input: { file_path: target, content: "conductor was here\n" } },
  ]));
  try {
    const install = cpwd(d.home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home });
    assert.equal(install.code, 0, install.stderr);
    const settings = localSettings(p.project);
    assert.equal(settings.hooks.PreToolUse[0].hooks[0].type, "http");
    assert.equal(settings.hooks.SessionStart[0].hooks[0].type, "command", "SessionStart keeps the shim");
    assert.match(settings.env.CPWD_TOKEN, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(settings.hooks).includes(settings.env.CPWD_TOKEN), "the hooks name the token by variable only");

    const c = await d.client();
    const holder = await liveWorker(c);
    await c.call("hook.handle", { event: { hook_event_name: "PreToolUse", session_id: "worker-session", cwd: p.project, tool_name: "Write", tool_input: { file_path: target } }, workerId: holder });
    const { worker: builder } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `while [ ! -e ${release} ]; do sleep 0.05; done`], name: "builder", cwd: p.project, env: { PATH: process.env.PATH ?? "" } } as never);
    await waitFor("the builder to run", async () => (await c.call("worker.get", { target: String(builder.id) })).workers[0]?.state === "running");
    c.close();

    const run = await runClaude({ cwd: p.project, prompt: "wait, then write held.ts", env: claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" }), args: ["--allowedTools", "Bash"] });
    assert.equal(run.result?.subtype, "success", run.stderr);
    const session = run.result.session_id as string;
    const turns = api.turns();
    // News: the Bash call's PostToolUse (over HTTP) says the builder finished.
    const afterBash = turns.find((r) => toolResults(r).length > 0)!;
    assert.match(allText(afterBash), new RegExp(`finished since you last heard:\\n- ${builder.id} "builder" exited 0`));
    // The block: the Write did not run, and the model read why.
    assert.equal(existsSync(target), false, "the Write was denied");
    const afterWrite = turns.filter((r) => toolResults(r).length > 0).at(-1)!;
    const result = toolResults(afterWrite)[0]!;
    assert.equal(result.is_error, true);
    assert.match(JSON.stringify(result.content), new RegExp(`${holder} holds .*held\\.ts since \\d+s ago`));

    const log = events(d.paths.events);
    const mine = log.filter((e) => e.session === session);
    const types = new Set(mine.map((e) => e.type));
    for (const t of ["hook.SessionStart", "hook.UserPromptSubmit", "hook.PreToolUse", "hook.PostToolUse", "hook.Stop", "claim.denied", "digest.delivered"]) assert.ok(types.has(t), `${t} in ${[...types].join(", ")}`);
    assert.ok(mine.some((e) => e.type === "hook.PreToolUse" && e.payload.tool === "Write" && e.payload.decision === "deny"));
    assert.ok(!JSON.stringify(log).includes("conductor was here"), "no file contents in the record");
    assert.ok(!JSON.stringify(log).includes(settings.env.CPWD_TOKEN), "the token is not in the record");
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("with a wrong token the daemon refuses the HTTP hooks: nothing of them is recorded, and the session goes on", async () => {
  const d = await startDaemon();
  const p = makeProject({});
  const target = join(p.project, "out.txt");
  const api = await startFakeApi(toolThenText({ name: "Write", input: { file_path: target, content: "hi\n" } }));
  try {
    const install = cpwd(d.home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home });
    assert.equal(install.code, 0, install.stderr);
    const settings = localSettings(p.project);
    settings.env.CPWD_TOKEN = "0".repeat(64);
    writeFileSync(join(p.project, ".claude", "settings.local.json"), JSON.stringify(settings));
    const status = cpwd(d.home, ["hooks", "status", "--scope", "local", "--dir", p.project], { HOME: p.home });
    assert.equal(status.code, 3);
    assert.match(status.stdout, /token: not the daemon's/);

    const run = await runClaude({ cwd: p.project, prompt: "write out.txt", env: claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" }) });
    assert.equal(run.result?.subtype, "success", run.stderr);
    assert.equal(readFileSync(target, "utf8"), "hi\n", "a refused HTTP hook is a non-blocking error: the Write ran");
    const types = new Set(events(d.paths.events).filter((e) => e.session === run.result.session_id).map((e) => e.type));
    assert.ok(types.has("hook.SessionStart"), "the shim's events still arrive");
    for (const t of ["hook.UserPromptSubmit", "hook.PreToolUse", "hook.PostToolUse"]) assert.ok(!types.has(t), `${t} was refused`);
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("with the daemon down an HTTP-hooked Write goes ahead unrecorded; installed fail-closed, Claude Code refuses it", async () => {
  const home = tempHome();
  const p = makeProject({});
  const target = join(p.project, "out.txt");
  const api = await startFakeApi(toolThenText({ name: "Write", input: { file_path: target, content: "hi\n" } }));
  let d: TestDaemon | undefined;
  try {
    const env = claudeEnv(api.url, p.home, { CPWD_HOME: home, CPWD_AUTOSTART: "0" });
    assert.equal(cpwd(home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home }).code, 0);
    const open = await runClaude({ cwd: p.project, prompt: "write out.txt", env });
    assert.equal(open.result?.subtype, "success", open.stderr);
    assert.equal(readFileSync(target, "utf8"), "hi\n", "fail-open: the Write ran");
    rmSync(target);

    const closed = cpwd(home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home, CPWD_HOOK_FAIL_CLOSED: "1" });
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(localSettings(p.project).hooks.PreToolUse[0].hooks[0].onFailure, "block");
    const refused = await runClaude({ cwd: p.project, prompt: "write out.txt", env });
    assert.equal(refused.result?.subtype, "success", refused.stderr);
    assert.equal(existsSync(target), false, "fail-closed: the Write was refused");
    const result = toolResults(api.turns().filter((r) => toolResults(r).length > 0).at(-1)!)[0]!;
    assert.equal(result.is_error, true);
    assert.match(JSON.stringify(result.content), /ECONNREFUSED/);

    // What reached the record once the daemon is back: the shim's events, none of the HTTP ones.
    d = await startDaemon(home);
    const types = new Set(events(d.paths.events).filter((e) => e.session === open.result.session_id).map((e) => e.type));
    assert.ok(types.has("hook.SessionStart") && types.has("hook.Stop"), `the shim's events, through the fallback log: ${[...types].join(", ")}`);
    for (const t of ["hook.UserPromptSubmit", "hook.PreToolUse", "hook.PostToolUse"]) assert.ok(!types.has(t), `${t} was lost`);
  } finally {
    await api.close();
    await cleanup(d, home);
    rmSync(p.dir, { recursive: true, force: true });
  }
});
