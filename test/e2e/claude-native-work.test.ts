// End to end with the real Claude Code CLI (pinned devDependency), offline against the fake
// Messages API: a conductor's `Agent` call with run_in_background starts a subagent of Claude
// Code's own, which `cpwd status` shows beside cpwd's workers while it runs and as ended after,
// from the SubagentStart/SubagentStop events in events.jsonl; no digest ever mentions it.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv, hookSettings, makeProject, runClaude } from "../helpers/claude.js";
import { startFakeApi, type RecordedRequest } from "../helpers/fake-messages-api.js";
import { SHIM } from "../helpers/shim.js";

const shimCommand = `${JSON.stringify(process.execPath)} ${JSON.stringify(SHIM)}`;
const SUB_PROMPT = "Count the lines of every file (subagent task 7f3a)";
const SUB_ANSWER = "There are 42 lines (subagent answer 9c1e)";

function events(file: string): any[] {
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
/** The subagent's own requests open with its prompt; the conductor's with the user's. */
const isSubagent = (req: RecordedRequest) => JSON.stringify(req.body?.messages?.[0]?.content ?? "").includes(SUB_PROMPT);
const calledAgent = (req: RecordedRequest) =>
  (req.body?.messages ?? []).some((m: any) => m.role === "assistant" && Array.isArray(m.content) && m.content.some((b: any) => b.type === "tool_use" && b.name === "Agent"));

test("a background subagent from a scripted Agent call shows in cpwd status as Claude Code's own while it runs and as ended after; its events are in events.jsonl", async () => {
  const d = await startDaemon();
  const p = makeProject(hookSettings(shimCommand));
  // The subagent's answer is held until the test has seen it running: the order is made, not timed.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const api = await startFakeApi((req) => {
    if (isSubagent(req)) return { text: SUB_ANSWER, until: held };
    if (calledAgent(req)) return { text: "Started it in the background." };
    return { tool: { name: "Agent", input: { subagent_type: "general-purpose", description: "count the lines", prompt: SUB_PROMPT, run_in_background: true } } };
  });
  const env = claudeEnv(api.url, p.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0", CLAUDE_CODE_TMPDIR: join(p.dir, "tmp") });
  // `cpwd status` reads `claude agents --json` with the same binary and the session's HOME.
  const statusEnv = { HOME: p.home, CPWD_CLAUDE_BIN: CLAUDE_BIN };
  const c = await d.client();
  const running = runClaude({ cwd: p.project, prompt: "count the lines in the background", env, timeoutMs: 90_000 });
  try {
    const sub = await waitFor("the subagent's start in the record", async () => ((await c.call("status")) as any).native?.subagents?.[0], 60_000, 50);
    assert.equal(sub.state, "running");
    assert.equal(sub.agentType, "general-purpose");
    assert.equal(sub.description, "count the lines");
    assert.equal(sub.background, true);

    const json = JSON.parse(cpwd(d.home, ["status", "--json"], statusEnv).stdout);
    assert.deepEqual(json.workers, [], "cpwd runs no worker: the subagent is not one");
    assert.equal(json.native.subagents[0].agentId, sub.agentId);
    const listed = json.backgroundSessions.sessions;
    assert.ok(Array.isArray(listed), `claude agents --json was read: ${JSON.stringify(json.backgroundSessions)}`);
    const human = cpwd(d.home, ["status"], statusEnv).stdout;
    assert.match(human, /workers: none/);
    assert.match(human, /^Claude Code's own \(not cpwd workers/m);
    assert.match(human, /subagent\s+running\s+\S+\s+general-purpose "count the lines" \(background\)/);
    assert.doesNotMatch(human, /background sessions not read/);

    release();
    const run = await running;
    assert.equal(run.result?.subtype, "success", run.stderr);
    const session = run.result.session_id;
    assert.ok(listed.some((s: any) => s.sessionId === session && s.kind === "interactive"), "claude agents listed the conductor's session");
    // The tool 2.1.331 offers the model for subagents is `Agent` (its init line still says `Task`).
    assert.ok(api.turns()[0]!.body.tools.some((t: { name: string }) => t.name === "Agent"));
    assert.ok(api.turns().some(isSubagent), "the fake answered the subagent's own request");

    const ended = await waitFor("the subagent to end", async () => ((await c.call("status")) as any).native.subagents.find((a: any) => a.state === "ended"));
    assert.equal(ended.agentId, sub.agentId);
    assert.equal(ended.session, session);
    assert.equal(ended.endReason, "finished");
    assert.match(cpwd(d.home, ["status"], statusEnv).stdout, /subagent\s+ended \S+ ago\s+\S+\s+general-purpose "count the lines"/);

    const log = events(d.paths.events);
    const start = log.find((e) => e.type === "hook.SubagentStart");
    const stop = log.find((e) => e.type === "hook.SubagentStop");
    assert.equal(start.session, session);
    assert.equal(start.payload.agentId, sub.agentId);
    assert.equal(start.payload.description, "count the lines");
    assert.match(start.payload.toolUseId, /^toolu_/);
    assert.equal(stop.payload.agentId, sub.agentId);
    assert.ok(start.seq < stop.seq);
    const text = readFileSync(d.paths.events, "utf8");
    assert.ok(!text.includes(SUB_PROMPT) && !text.includes(SUB_ANSWER), "no prompt, no answer in the record");
    assert.ok(!log.some((e) => e.type === "digest.delivered"), "no digest: the subagent is no news to its own session");
  } finally {
    release();
    await running.catch(() => undefined);
    c.close();
    await api.close();
    await cleanup(d);
    rmSync(p.dir, { recursive: true, force: true });
  }
});
