// End to end with the real Claude Code CLI (pinned devDependency), offline against the fake
// Messages API: blocks reach the model as tool errors, worker news reaches it as context, a Claude
// worker's result and cost show in `cpwd status`, and a session with the daemon down still runs.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CLI, cleanup, cpwd, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv, hookSettings, makeProject, runClaude } from "../helpers/claude.js";
import { allText, startFakeApi, toolResults, toolThenText } from "../helpers/fake-messages-api.js";
import { SHIM } from "../helpers/shim.js";
import { withClaudeProject, type Project } from "../helpers/claude-project.js";
import { liveWorker } from "../helpers/fixtures.js";

const shimCommand = `${JSON.stringify(process.execPath)} ${JSON.stringify(SHIM)}`;

function events(file: string): any[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

describe("Claude Code with cpwd's hooks", () => {
  test("a conductor's Write to a file a worker holds is denied; the file is untouched and the model gets the reason", async () => {
    const scriptFor = (_d: TestDaemon, p: Project) => toolThenText({ name: "Write", input: { file_path: join(p.project, "shared.ts"), content: "conductor was here\n" } });
    await withClaudeProject({ settings: hookSettings(shimCommand), scriptFor }, async ({ daemon: d, project: p, api }) => {
      const target = join(p.project, "shared.ts");
      // A running worker (named by its hook's CPWD_WORKER_ID) is editing the file.
      const c = await d.client();
      const holder = await liveWorker(c);
      await c.call("hook.handle", { event: { hook_event_name: "PreToolUse", session_id: "worker-session", cwd: p.project, tool_name: "Edit", tool_input: { file_path: target } }, workerId: holder });
      c.close();
      const run = await runClaude({ cwd: p.project, prompt: "write shared.ts", env: claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" }) });
      assert.equal(run.result?.subtype, "success", run.stderr);
      assert.equal(existsSync(target), false, "the Write did not run");
      const after = api.turns().find((r) => toolResults(r).length > 0);
      assert.ok(after, "the model was called again with the tool result");
      const result = toolResults(after)[0]!;
      assert.equal(result.is_error, true);
      assert.match(JSON.stringify(result.content), new RegExp(`${holder} holds .*shared\\.ts since \\d+s ago`));
      const log = events(d.paths.events);
      const denied = log.find((e) => e.type === "claim.denied");
      assert.equal(denied.payload.holder, holder);
      assert.equal(denied.session, run.result.session_id);
      assert.ok(log.some((e) => e.type === "hook.PreToolUse" && e.payload.decision === "deny" && e.payload.tool === "Write"));
      assert.ok(!JSON.stringify(log).includes("conductor was here"), "no file contents in the record");
    });
  });

  test("a worker's news reaches the model inside the conductor's next request", async () => {
    // The order is made, not timed: the builder runs until the conductor's Bash call releases it,
    // and that call returns only once the daemon says the builder exited. (Not once its
    // worker.exited is in events.jsonl: the line is in the file while its fdatasync is still under
    // way, before the supervisor applies it and a digest can tell of it.)
    const releaseFile = (p: Project) => join(p.dir, "release");
    const scriptFor = (d: TestDaemon, p: Project) => {
      const status = `CPWD_HOME=${d.home} ${process.execPath} ${CLI} status --json`;
      const command = `touch ${releaseFile(p)}; while ! ${status} 2>/dev/null | grep -q '"state":"exited"'; do sleep 0.05; done`;
      return toolThenText({ name: "Bash", input: { command, description: "wait" } });
    };
    await withClaudeProject({ settings: hookSettings(shimCommand), scriptFor }, async ({ daemon: d, project: p, api }) => {
      const release = releaseFile(p);
      const c = await d.client();
      const argv = ["/bin/sh", "-c", `while [ ! -e ${release} ]; do sleep 0.05; done`];
      const { worker } = await c.call("worker.spawn", { argv, name: "builder", cwd: p.project, env: { PATH: process.env.PATH ?? "" } } as never);
      await waitFor("the builder to run", async () => (await c.call("worker.get", { target: String(worker.id) })).workers[0]?.state === "running");
      c.close();
      const run = await runClaude({
        cwd: p.project,
        prompt: "wait for the build",
        env: claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" }),
        args: ["--allowedTools", "Bash"],
      });
      assert.equal(run.result?.subtype, "success", run.stderr);
      const turns = api.turns();
      // The first request carries the SessionStart overview: the builder is running.
      assert.match(allText(turns[0]!), new RegExp(`${worker.id} "builder" running`));
      // After the Bash call the builder has finished: the PostToolUse digest says so.
      const next = turns.find((r) => toolResults(r).length > 0)!;
      assert.match(allText(next), new RegExp(`finished since you last heard:\\n- ${worker.id} "builder" exited 0`));
      assert.ok(events(d.paths.events).some((e) => e.type === "digest.delivered" && e.session === run.result.session_id && e.payload.overview === false));
    });
  });

  test("cpwd claude runs the real CLI as a worker; its result and cost show in cpwd status", async () => {
    const script = () => ({ text: "All 12 tests pass.\nNothing else to do." });
    await withClaudeProject({ script }, async ({ daemon: d, project: p, api }) => {
      const env = { ...claudeEnv(api.url, p.home), CPWD_CLAUDE_BIN: CLAUDE_BIN, CLAUDE_CODE_SESSION_ID: "conductor-123" };
      const r = cpwd(d.home, ["claude", "--name", "checker", "--cwd", p.project, "--max-turns", "3", "run the tests"], env as Record<string, string>);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      const c = await d.client();
      const w = await waitFor("the Claude worker to finish with its result", async () => {
        const v = (await c.call("worker.get", { target: id })).workers[0] as any;
        return v.state === "exited" && v.claude?.done ? v : null;
      }, 60_000, 100);
      c.close();
      assert.equal(w.meta.parentSession, "conductor-123");
      assert.equal(w.meta.kind, "claude");
      assert.deepEqual(w.command.slice(1, 6), ["-p", "run the tests", "--output-format", "stream-json", "--verbose"]);
      assert.equal(w.claude.result, "All 12 tests pass.\nNothing else to do.");
      assert.equal(typeof w.claude.costUsd, "number");
      assert.ok(w.claude.costUsd > 0);
      assert.equal(w.claude.isError, false);
      assert.match(w.claude.sessionId, /^[0-9a-f-]{36}$/);
      const status = JSON.parse(cpwd(d.home, ["status", "--json"]).stdout);
      assert.equal(status.workers[0].claude.result, "All 12 tests pass.\nNothing else to do.");
      const human = cpwd(d.home, ["status"]).stdout;
      assert.match(human, new RegExp(`${id}\\s+checker\\s+exited`));
      assert.match(human, /\$0\.\d{4}/);
    });
  });

  test("with the daemon stopped the session still completes, and its hook events reach events.jsonl once the daemon starts", async () => {
    const home = tempHome();
    const p = makeProject(hookSettings(shimCommand));
    const api = await startFakeApi(toolThenText({ name: "Write", input: { file_path: join(p.project, "out.txt"), content: "hi\n" } }));
    let d: TestDaemon | undefined;
    try {
      const run = await runClaude({ cwd: p.project, prompt: "write out.txt", env: claudeEnv(api.url, p.home, { CPWD_HOME: home, CPWD_AUTOSTART: "0" }) });
      assert.equal(run.result?.subtype, "success", run.stderr);
      assert.equal(readFileSync(join(p.project, "out.txt"), "utf8"), "hi\n", "fail-open: the Write ran");
      const fallback = events(pathsFor(home).fallback);
      assert.ok(fallback.length >= 4, `hook events were kept (${fallback.length})`);
      d = await startDaemon(home);
      const ingested = events(d.paths.events).filter((e) => e.source === "fallback");
      const types = new Set(ingested.map((e) => e.type));
      for (const t of ["hook.SessionStart", "hook.UserPromptSubmit", "hook.PreToolUse", "hook.PostToolUse"]) assert.ok(types.has(t), `${t} ingested`);
      assert.ok(ingested.every((e) => e.session === run.result.session_id || e.type === "hook.SessionEnd"));
    } finally {
      await api.close();
      await cleanup(d, home);
      rmSync(p.dir, { recursive: true, force: true });
    }
  });
});
