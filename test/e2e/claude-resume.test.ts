// `cpwd claude --resume W3` and `--fork W3` with the real Claude Code CLI against the fake Messages
// API: the follow-up sends W3's session (the fake sees the earlier messages), a resumed run is W3's
// next run with its own result and cost, a fork is a new worker with a new session, and a worker
// still running is refused.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLAUDE_BIN, withFakeClaude } from "../helpers/claude.js";
import { cpwd, waitFor, withDaemon } from "../helpers/daemon.js";
import { allText, type RecordedRequest } from "../helpers/fake-messages-api.js";

/** Answers each prompt by name, so a transcript shows which run said what. */
function byPrompt(req: RecordedRequest): { text: string } {
  const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const last = JSON.stringify(msgs.filter((m) => m.role === "user").at(-1) ?? "");
  if (last.includes("BETA")) return { text: "second answer" };
  if (last.includes("GAMMA")) return { text: "forked answer" };
  return { text: "first answer" };
}

/** A worker's view once its current run `run` has reported its result and the worker has ended. */
async function ended(c: RpcClient, id: string, run: number): Promise<any> {
  return waitFor(`${id}'s run ${run} to end`, async () => {
    const w = (await c.call("worker.get", { target: id })).workers[0] as any;
    return ["exited", "failed", "stopped"].includes(w.state) && w.claude?.run === run && w.claude?.done ? w : null;
  }, 60_000, 100);
}

test("--resume W3 sends W3's session: the fake sees the earlier messages, and the result shows as W3's second run", () =>
  withFakeClaude(byPrompt, ({ project, api, env }) => withDaemon(async (d, c) => {
    const first = cpwd(d.home, ["claude", "--cwd", project, "--name", "docs", "first prompt ALPHA"], env);
    assert.equal(first.code, 0, first.stderr);
    const id = first.stdout.trim();
    const one = await ended(c, id, 1);
    assert.equal(one.claude.result, "first answer");
    const session = one.claude.sessionId as string;
    const turnsBefore = api.turns().length;
    // A conductor has heard of the first run before the follow-up starts.
    const conductor = { session_id: "conductor-resume", cwd: project };
    const heard = await c.call("hook.handle", { event: { hook_event_name: "SessionStart", ...conductor } });
    assert.match(String((heard.output as any)?.hookSpecificOutput?.additionalContext), new RegExp(`^- ${id} "docs" exited 0 .*: first answer$`, "m"));

    const again = cpwd(d.home, ["claude", "--resume", id, "second prompt BETA"], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), id, "the same worker");
    const two = await ended(c, id, 2);
    // The model saw the first run's prompt and answer before the new prompt.
    const seen = allText(api.turns().at(-1)!);
    assert.ok(api.turns().length > turnsBefore);
    assert.match(seen, /first prompt ALPHA[\s\S]*first answer[\s\S]*second prompt BETA/);
    // W3 ran again, in its folder, resuming its session; the run's result and cost are its own.
    assert.equal(two.state, "exited");
    assert.equal(two.name, "docs");
    assert.equal(two.cwd, project);
    assert.deepEqual(two.command.slice(two.command.indexOf("--resume"), two.command.indexOf("--resume") + 2), ["--resume", session]);
    assert.equal(two.meta.prompt, "second prompt BETA");
    assert.equal(two.claude.sessionId, session);
    assert.equal(two.claude.result, "second answer");
    assert.ok(two.claude.costUsd > 0);
    assert.ok(Math.abs(two.claude.costUsd - one.claude.costUsd) < 1e-9, "the run's own cost, not the session's total");
    assert.ok(Math.abs(two.claude.totalCostUsd - 2 * one.claude.costUsd) < 1e-9);
    const status = cpwd(d.home, ["status"], { COLUMNS: "200" }).stdout;
    assert.match(status, new RegExp(`^${id} claude, run 2: \\$0\\.\\d{4}, 1 turn, \\$0\\.\\d{4} over 2 runs: second answer$`, "m"));
    // The conductor's next digest tells it of the second run: its own result and cost.
    const news = await c.call("hook.handle", { event: { hook_event_name: "UserPromptSubmit", prompt: "what now?", ...conductor } });
    const digest = String((news.output as any)?.hookSpecificOutput?.additionalContext);
    assert.match(digest, /^cpwd: 1 worker finished since you last heard:$/m);
    assert.match(digest, new RegExp(`^- ${id} "docs" exited 0 after \\d+s \\(\\$${two.claude.costUsd.toFixed(4).replace(".", "\\.")}, 1 turn\\): second answer$`, "m"));
    assert.doesNotMatch(digest, /first answer/);
    const log = readFileSync(d.paths.events, "utf8");
    assert.equal((log.match(/"type":"worker.queued"/g) ?? []).length, 2);
    assert.match(log, /"by":"rerun"/);
  })));

test("--fork W3 starts a new worker from W3's session, with a session of its own; W3 stays as it was", () =>
  withFakeClaude(byPrompt, ({ project, api, env }) => withDaemon(async (d, c) => {
    const id = cpwd(d.home, ["claude", "--cwd", project, "--max-cost", "5", "first prompt ALPHA"], env).stdout.trim();
    const source = await ended(c, id, 1);
    const fork = cpwd(d.home, ["claude", "--fork", id, "--name", "other-way", "third prompt GAMMA"], env);
    assert.equal(fork.code, 0, fork.stderr);
    const forkId = fork.stdout.trim();
    assert.notEqual(forkId, id);
    const f = await ended(c, forkId, 1);
    const after = (await c.call("worker.get", { target: id })).workers[0] as any;
    assert.match(allText(api.turns().at(-1)!), /first prompt ALPHA[\s\S]*first answer[\s\S]*third prompt GAMMA/);
    assert.equal(f.claude.result, "forked answer");
    assert.notEqual(f.claude.sessionId, source.claude.sessionId, "a session of its own");
    assert.equal(f.cwd, project, "where W3 ran");
    assert.equal(f.name, "other-way");
    assert.equal(f.meta.forkedFrom, id);
    assert.equal(f.meta.maxCostUsd, 5, "W3's --max-cost carried over");
    assert.ok(f.command.includes("--fork-session"));
    assert.deepEqual(f.command.slice(f.command.indexOf("--max-budget-usd"), f.command.indexOf("--max-budget-usd") + 2), ["--max-budget-usd", "5"]);
    assert.equal(after.claude.run, 1, "W3 did not run again");
    assert.equal(after.claude.result, "first answer");
  })));

test("a worker still running is refused, as is one without a session or --resume with a new worker's options", () =>
  withDaemon(async (d, c) => {
    const env = { CPWD_CLAUDE_BIN: CLAUDE_BIN };
    // A Claude worker as the daemon knows one, still running (its command stands in for claude).
    const argv = [process.execPath, "-e", "setTimeout(() => {}, 60000)"];
    const { worker } = await c.call("worker.spawn", { argv, cwd: d.home, env: {}, meta: { kind: "claude" } } as never);
    const id = String(worker.id);
    await waitFor("it to run", async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "running");
    for (const flag of ["--resume", "--fork"]) {
      const r = cpwd(d.home, ["claude", flag, id, "more"], env);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `cpwd claude: ${id} is running: ${flag} ${id} can continue its session once it has ended (\`cpwd stop ${id}\` ends it now)`);
    }
    await c.call("worker.kill", { target: id });
    await waitFor("it to end", async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "stopped");
    const none = cpwd(d.home, ["claude", "--resume", id, "more"], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`${id} has no Claude session to continue: its output never reported one`));
    const usage = cpwd(d.home, ["claude", "--resume", id, "--cwd", d.home, "more"], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, new RegExp(`--cwd shapes a new worker, and --resume ${id} continues ${id} as it is .*; --fork ${id} starts a new worker from its session`));
    assert.equal(cpwd(d.home, ["claude", "--resume", id, "--fork", id, "more"], env).code, 2);
    assert.match(cpwd(d.home, ["claude", "--max-cost", "-1", "more"], env).stderr, /--max-cost must be an amount in USD above 0/);
  }));
