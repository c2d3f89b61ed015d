// End to end with the real Claude Code CLI (pinned devDependency), offline against the fake
// Messages API: `cpwd hooks install` registers `cpwd mcp`, Claude Code starts it, and a conductor's
// scripted tool calls start a real Claude worker and gather its result and cost through it.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { describe, test } from "node:test";
import { CLAUDE_BIN, claudeEnv, makeProject, runClaude } from "../helpers/claude.js";
import { withClaudeProject } from "../helpers/claude-project.js";
import { cleanup, cpwd, startDaemon } from "../helpers/daemon.js";
import { startFakeApi, toolResults, type RecordedRequest, type Reply } from "../helpers/fake-messages-api.js";

/** The text of a request's first user message: whose conversation it is. */
function opening(req: RecordedRequest): string {
  const content = req.body?.messages?.[0]?.content;
  return typeof content === "string" ? content : JSON.stringify(content ?? "");
}

/** How many tool results the conversation holds so far. */
function resultsSoFar(req: RecordedRequest): number {
  const msgs = (req.body?.messages ?? []) as Array<{ content: unknown }>;
  return msgs.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((b: { type?: string }) => b.type === "tool_result").length;
}

/** A tool_result's text. */
function resultText(block: { content: unknown }): string {
  return typeof block.content === "string" ? block.content : (block.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("");
}

/** The conductor's request that carries its `nth` tool result: the model's view of that tool call. */
function turnAfter(api: { turns(): RecordedRequest[] }, nth: number): RecordedRequest {
  const found = api.turns().find((r) => resultsSoFar(r) === nth && toolResults(r).length > 0);
  assert.ok(found, `the model was called with tool result ${nth}`);
  return found;
}

describe("cpwd mcp under Claude Code", () => {
  test("a conductor's mcp__cpwd__claude_worker starts a real worker, and mcp__cpwd__wait_for_workers hands the model its result and cost", async () => {
    const script = (req: RecordedRequest): Reply => {
      if (opening(req).includes("check the parser")) return { text: "All 12 parser tests pass." };
      const n = resultsSoFar(req);
      if (n === 0) return { tool: { name: "mcp__cpwd__claude_worker", input: { prompt: "check the parser", name: "checker", max_turns: 3 } } };
      if (n === 1) return { tool: { name: "mcp__cpwd__wait_for_workers", input: { workers: ["checker"], timeout_seconds: 90 } } };
      return { text: "gathered" };
    };
    await withClaudeProject({ script }, async ({ daemon: d, project: p, api }) => {
      const installed = cpwd(d.home, ["hooks", "install", "--dir", p.project], { HOME: p.home });
      assert.equal(installed.code, 0, installed.stderr);
      const env = claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_CLAUDE_BIN: CLAUDE_BIN });
      const run = await runClaude({ cwd: p.project, prompt: "fan out", env, args: ["--allowedTools", "mcp__cpwd__claude_worker,mcp__cpwd__wait_for_workers"], timeoutMs: 120_000 });
      assert.equal(run.result?.subtype, "success", run.stderr);
      const init = run.lines.find((l) => l.type === "system" && l.subtype === "init");
      assert.deepEqual(init.mcp_servers.find((s: { name: string }) => s.name === "cpwd")?.status, "connected");

      const started = JSON.parse(resultText(toolResults(turnAfter(api, 1))[0]!));
      assert.equal(started.worker.name, "checker");
      assert.equal(started.worker.kind, "claude");
      const gathered = toolResults(turnAfter(api, 2))[0]!;
      assert.notEqual(gathered.is_error, true, resultText(gathered));
      const waited = JSON.parse(resultText(gathered));
      assert.equal(waited.done, true);
      const [w] = waited.ended;
      assert.equal(w.id, started.worker.id);
      assert.equal(w.state, "exited");
      assert.equal(w.claude.result, "All 12 parser tests pass.", "the model sees the worker's result");
      assert.ok(w.claude.costUsd > 0, "and its cost");

      const c = await d.client();
      const view = (await c.call("worker.get", { target: "checker" })).workers[0] as any;
      c.close();
      assert.equal(view.meta.parentSession, run.result.session_id, "the conductor's session is the parent");
      assert.equal(view.cwd, p.project);
    });
  });

  test("registered at the user and local scopes it is connected too, and a bad argument reaches the model as a tool error", async () => {
    const d = await startDaemon();
    const api = await startFakeApi((req) => (resultsSoFar(req) === 0 ? { tool: { name: "mcp__cpwd__wait_for_workers", input: { workers: ["nope"], timeout_seconds: 1 } } } : { text: "ok" }));
    const dirs: string[] = [];
    try {
      for (const scope of ["user", "local"]) {
        const p = makeProject({});
        dirs.push(p.dir);
        const installed = cpwd(d.home, ["hooks", "install", "--scope", scope, "--dir", p.project], { HOME: p.home });
        assert.equal(installed.code, 0, installed.stderr);
        const env = claudeEnv(api.url, p.home, { CPWD_HOME: d.home });
        const run = await runClaude({ cwd: p.project, prompt: "wait", env, args: ["--allowedTools", "mcp__cpwd"] });
        assert.equal(run.result?.subtype, "success", run.stderr);
        const init = run.lines.find((l) => l.type === "system" && l.subtype === "init");
        assert.deepEqual(init.mcp_servers.find((s: { name: string }) => s.name === "cpwd")?.status, "connected", scope);
        const last = api.turns().at(-1)!;
        const [r] = toolResults(last);
        assert.equal(r?.is_error, true, scope);
        assert.match(resultText(r!), /no worker nope/);
      }
    } finally {
      await api.close();
      await cleanup(d);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
