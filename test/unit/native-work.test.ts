// Claude Code's own work: the fold of its hook events (subagents, teammates), what the record
// keeps of them, that digests never mention them, how `cpwd status` shows them, and reading
// `claude agents --json` (absent, hung, failing: a note, never an error).
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import { NATIVE_SILENT_MS, NativeWork } from "../../daemon/coordination/native-work.js";
import { DigestBook } from "../../daemon/coordination/digests.js";
import { summarizeHook, slimHookInput, NATIVE_LABEL_CHARS, type HookInput } from "../../src/protocol/hooks.js";
import { checkEventPayload, type EventRecord } from "../../src/protocol/events.js";
import { formatNativeWork } from "../../cli/format/native-work.js";
import { parseClaudeAgents, readBackgroundSessions } from "../../cli/background-sessions.js";
import type { CliContext } from "../../cli/context.js";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
let seq = 0;

/** A `hook.<event>` record as the hook service writes it: the summary of `input`, plus `extra`. */
function hook(event: string, atMs: number, input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, session = "S1"): EventRecord {
  const payload = { ...summarizeHook({ hook_event_name: event, session_id: session, ...input } as HookInput), ...extra, decision: "allow", durationMs: 1 };
  return { v: 1, seq: ++seq, ts: new Date(atMs).toISOString(), type: `hook.${event}`, source: "hook", session, payload };
}
const agentCall = (toolUseId: string, description: string, subagent_type = "general-purpose", run_in_background = true) => ({
  tool_name: "Agent",
  tool_use_id: toolUseId,
  tool_input: { description, prompt: "the secret prompt", subagent_type, run_in_background },
});

describe("the native-work fold", () => {
  test("a subagent runs from its SubagentStart, with its Agent call's description, and ends at its SubagentStop", () => {
    const w = new NativeWork(HOUR);
    w.apply(hook("PreToolUse", T0, agentCall("toolu_1", "count the lines")));
    w.apply(hook("SubagentStart", T0 + 100, { agent_id: "a1", agent_type: "general-purpose" }));
    let [a] = w.view(T0 + 5_000).subagents;
    assert.equal(a!.state, "running");
    assert.equal(a!.agentId, "a1");
    assert.equal(a!.agentType, "general-purpose");
    assert.equal(a!.description, "count the lines");
    assert.equal(a!.background, true);
    assert.equal(a!.session, "S1");
    assert.equal(a!.startedAt, new Date(T0 + 100).toISOString());
    w.apply(hook("SubagentStop", T0 + 9_000, { agent_id: "a1", agent_type: "general-purpose", last_assistant_message: "the answer" }));
    [a] = w.view(T0 + 10_000).subagents;
    assert.equal(a!.state, "ended");
    assert.equal(a!.endReason, "finished");
    assert.equal(a!.endedAt, new Date(T0 + 9_000).toISOString());
  });

  test("replay takes the call the hook service took live, whatever the order the subagents start in", () => {
    const events = [hook("PreToolUse", T0, agentCall("toolu_A", "explore the code", "Explore")), hook("PreToolUse", T0 + 1, agentCall("toolu_B", "write the tests"))];
    const live = new NativeWork(HOUR);
    events.forEach((e) => live.apply(e));
    // The general-purpose subagent starts first: it takes its own call, not the older Explore one.
    const first = live.takeCall("S1", "general-purpose")!;
    assert.equal(first.description, "write the tests");
    events.push(hook("SubagentStart", T0 + 10, { agent_id: "gp", agent_type: "general-purpose" }, { toolUseId: first.toolUseId, description: first.description }));
    const second = live.takeCall("S1", "Explore")!;
    events.push(hook("SubagentStart", T0 + 20, { agent_id: "ex", agent_type: "Explore" }, { toolUseId: second.toolUseId, description: second.description }));
    const replayed = new NativeWork(HOUR);
    events.forEach((e) => replayed.apply(e));
    const byId = Object.fromEntries(replayed.view(T0 + 30).subagents.map((a) => [a.agentId, a.description]));
    assert.deepEqual(byId, { gp: "write the tests", ex: "explore the code" });
  });

  test("a start recorded by the shim while the daemon was down takes the call by type, else the oldest", () => {
    const w = new NativeWork(HOUR);
    w.apply(hook("PreToolUse", T0, agentCall("toolu_1", "first", "Plan")));
    w.apply(hook("PreToolUse", T0 + 1, agentCall("toolu_2", "second", "Explore")));
    w.apply(hook("SubagentStart", T0 + 2, { agent_id: "x", agent_type: "Explore" }));
    w.apply(hook("SubagentStart", T0 + 3, { agent_id: "y", agent_type: "custom" }));
    w.apply(hook("SubagentStart", T0 + 4, { agent_id: "z", agent_type: "custom" }));
    const byId = Object.fromEntries(w.view(T0 + 5).subagents.map((a) => [a.agentId, a.description]));
    assert.deepEqual(byId, { x: "second", y: "first", z: null });
  });

  test("a refused or failed Agent call lends its description to no subagent", () => {
    const w = new NativeWork(HOUR);
    w.apply(hook("PreToolUse", T0, agentCall("toolu_1", "refused one")));
    w.apply(hook("PermissionDenied", T0 + 1, { tool_name: "Agent", tool_use_id: "toolu_1", tool_input: {} }));
    w.apply(hook("SubagentStart", T0 + 2, { agent_id: "a", agent_type: "general-purpose" }));
    assert.equal(w.view(T0 + 3).subagents[0]!.description, null);
  });

  test("SessionEnd ends what still runs; a stop without its start shows ended, with no start time", () => {
    const w = new NativeWork(HOUR);
    w.apply(hook("SubagentStart", T0, { agent_id: "a", agent_type: "general-purpose" }));
    w.apply(hook("SubagentStop", T0 + 5, { agent_id: "b", agent_type: "Explore" }));
    w.apply(hook("SessionEnd", T0 + 10, { reason: "other" }));
    const [a, b] = w.view(T0 + 20).subagents.sort((x, y) => x.agentId.localeCompare(y.agentId));
    assert.equal(a!.state, "ended");
    assert.equal(a!.endReason, "session ended");
    assert.equal(b!.state, "ended");
    assert.equal(b!.startedAt, null);
    assert.equal(b!.agentType, "Explore");
  });

  test("what ended leaves the view after the recent window; a session silent for a day has its subagents ended", () => {
    const w = new NativeWork(HOUR);
    w.apply(hook("SubagentStart", T0, { agent_id: "done", agent_type: "t" }));
    w.apply(hook("SubagentStop", T0 + MIN, { agent_id: "done", agent_type: "t" }));
    w.apply(hook("SubagentStart", T0, { agent_id: "lost", agent_type: "t" }, {}, "S2"));
    assert.equal(w.view(T0 + 30 * MIN).subagents.length, 2);
    const later = w.view(T0 + 2 * HOUR).subagents;
    assert.deepEqual(later.map((a) => [a.agentId, a.state]), [["lost", "running"]]);
    assert.deepEqual(w.view(T0 + NATIVE_SILENT_MS + MIN).subagents, [], "ended when last heard of, a day ago: forgotten");
    const longer = new NativeWork(2 * NATIVE_SILENT_MS);
    longer.apply(hook("SubagentStart", T0, { agent_id: "lost", agent_type: "t" }));
    const [lost] = longer.view(T0 + NATIVE_SILENT_MS + MIN).subagents;
    assert.equal(lost!.state, "ended");
    assert.equal(lost!.endReason, "session went silent");
    assert.equal(lost!.endedAt, new Date(T0).toISOString());
  });

  test("teammates: idle after TeammateIdle, working again when a task names them; tasks counted, subjects kept", () => {
    const w = new NativeWork(HOUR);
    const who = { teammate_name: "alice", team_name: "docs" };
    w.apply(hook("TaskCreated", T0, { ...who, task_id: "1", task_subject: "Write the guide", task_description: "long private text" }));
    w.apply(hook("TeammateIdle", T0 + MIN, who));
    let [t] = w.view(T0 + 2 * MIN).teammates;
    assert.equal(t!.state, "idle");
    assert.equal(t!.since, new Date(T0 + MIN).toISOString());
    w.apply(hook("TaskCompleted", T0 + 3 * MIN, { ...who, task_id: "1", task_subject: "Write the guide" }));
    [t] = w.view(T0 + 4 * MIN).teammates;
    assert.deepEqual({ ...t, since: undefined }, { session: "S1", name: "alice", team: "docs", state: "working", since: undefined, tasksCreated: 1, tasksCompleted: 1, lastTask: "Write the guide" });
    w.apply(hook("TaskCreated", T0 + 4 * MIN, { task_id: "2", task_subject: "the lead's own todo" }));
    assert.equal(w.view(T0 + 5 * MIN).teammates.length, 1, "a task naming no teammate adds none");
  });

  test("a cpwd worker's session is named by the worker", () => {
    const w = new NativeWork(HOUR);
    w.apply({ ...hook("SubagentStart", T0, { agent_id: "a", agent_type: "t" }), worker: "W3" });
    assert.equal(w.view(T0 + 1).subagents[0]!.worker, "W3");
  });
});

describe("what the record keeps", () => {
  test("ids, types, names and short labels; never a prompt, a last message, a task's description or a transcript", () => {
    // Shapes as Claude Code 2.1.331 sends them, through the shim's slimming.
    const inputs: HookInput[] = [
      { hook_event_name: "PreToolUse", session_id: "S", ...agentCall("toolu_9", "sub job") },
      { hook_event_name: "SubagentStart", session_id: "S", agent_id: "af57", agent_type: "general-purpose", prompt_id: "p" },
      { hook_event_name: "SubagentStop", session_id: "S", agent_id: "af57", agent_type: "general-purpose", agent_transcript_path: "/h/.claude/x/agent-af57.jsonl", last_assistant_message: "the answer", background_tasks: [{ id: "af57", description: "sub job" }] },
      { hook_event_name: "TaskCompleted", session_id: "S", task_id: "7", task_subject: "x".repeat(500), task_description: "private plan", teammate_name: "bob", team_name: "t" },
    ];
    const [call, start, stop, task] = inputs.map((i) => summarizeHook(slimHookInput(i)));
    assert.deepEqual(call, { hookEvent: "PreToolUse", tool: "Agent", toolUseId: "toolu_9", subagentType: "general-purpose", description: "sub job", background: true });
    assert.deepEqual(start, { hookEvent: "SubagentStart", agentId: "af57", agentType: "general-purpose" });
    assert.deepEqual(stop, { hookEvent: "SubagentStop", agentId: "af57", agentType: "general-purpose" });
    assert.equal(task!.taskSubject, "x".repeat(NATIVE_LABEL_CHARS));
    assert.equal(task!.teammate, "bob");
    const all = JSON.stringify([call, start, stop, task]);
    for (const secret of ["the secret prompt", "the answer", "private plan", "agent-af57.jsonl"]) assert.ok(!all.includes(secret), secret);
    for (const [i, payload] of [call, start, stop, task].entries()) {
      assert.doesNotThrow(() => checkEventPayload({ type: `hook.${inputs[i]!.hook_event_name}`, payload: payload! }));
    }
  });
});

test("a session is never told about its own subagents: their events are no news in a digest", () => {
  const book = new DigestBook(HOUR);
  book.observe(hook("SessionStart", T0, { source: "startup" }));
  book.observe(hook("SubagentStart", T0 + 1, { agent_id: "a", agent_type: "t" }));
  book.observe(hook("SubagentStop", T0 + 2, { agent_id: "a", agent_type: "t" }));
  book.observe(hook("TeammateIdle", T0 + 3, { teammate_name: "x" }));
  assert.equal(book.digest("S1", [], seq, T0 + 4, false), null);
  assert.equal(book.digest("S1", [], seq, T0 + 4, true), null);
});

describe("cpwd status's section", () => {
  const now = T0 + 10 * MIN;
  const native = {
    subagents: [
      { session: "45b79bae-66e5", agentId: "a1", agentType: "general-purpose", description: "count the lines", background: true, state: "running" as const, endReason: null, startedAt: new Date(now - 12_000).toISOString(), endedAt: null, lastSeenAt: new Date(now - 1_000).toISOString() },
      { session: "45b79bae-66e5", worker: "W3", agentId: "a2", agentType: "Explore", description: null, background: false, state: "ended" as const, endReason: "finished", startedAt: new Date(now - 100_000).toISOString(), endedAt: new Date(now - 60_000).toISOString(), lastSeenAt: new Date(now).toISOString() },
    ],
    teammates: [{ session: "45b79bae-66e5", name: "alice", team: "docs", state: "idle" as const, since: new Date(now - 2 * MIN).toISOString(), tasksCreated: 1, tasksCompleted: 2, lastTask: "Write the guide" }],
  };
  const background = {
    sessions: [
      { id: "c1a9d828", sessionId: "c1a9d828-71de", kind: "background", name: "fix the flaky test", cwd: "/p", state: "working", startedAt: new Date(now - 5 * MIN).toISOString(), pid: null },
      { id: null, sessionId: "9da3202b", kind: "interactive", name: "project-77", cwd: "/p", state: "busy", startedAt: null, pid: 4 },
    ],
  };

  test("rows under a heading that says they are Claude Code's own, with how long each ran", () => {
    const text = formatNativeWork(native, background, 200, now);
    const lines = text.split("\n");
    assert.match(lines[0]!, /^Claude Code's own \(not cpwd workers/);
    assert.match(lines[1]!, /SESSION\s+KIND\s+STATE\s+TIME\s+WHAT/);
    assert.match(text, /45b79bae\s+subagent\s+running\s+12s\s+general-purpose "count the lines" \(background\)/);
    assert.match(text, /W3\s+subagent\s+ended 1m 0s ago\s+40s\s+Explore$/m);
    assert.match(text, /45b79bae\s+teammate\s+idle\s+2m 0s\s+alice \(team docs\): 2 tasks done, last "Write the guide"/);
    assert.match(text, /c1a9d828\s+background\s+working\s+5m 0s\s+c1a9d828 "fix the flaky test" in \/p/);
    assert.match(text, /^1 interactive Claude Code session open/m);
    assert.doesNotMatch(formatNativeWork(native, background, 200, now, new Set(["9da3202b"])), /interactive/, "a cpwd worker's session is in the table above");
  });

  test("nothing to show is nothing printed; a failed read is one note", () => {
    assert.equal(formatNativeWork({ subagents: [], teammates: [] }, { sessions: [] }, 80, now), "");
    assert.equal(formatNativeWork(undefined, { sessions: null, note: "Claude Code's background sessions not read: claude not found" }, 80, now), "Claude Code's background sessions not read: claude not found");
  });
});

describe("claude agents --json", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-agents-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, body: string) => {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
    return f;
  };
  const ctx: CliContext = { env: { PATH: process.env.PATH }, cwd: dir, stdout: new PassThrough(), stderr: new PassThrough(), cliScript: "", nodePath: process.execPath };

  test("the sessions it prints, the fields cpwd shows", async () => {
    const bin = script("ok", `[ "$1 $2" = "agents --json" ] || exit 9\necho '[{"id":"c1a9d828","cwd":"/p","kind":"background","startedAt":1795816694429,"sessionId":"c1a9","name":"do it","state":"working","extra":1}]'`);
    const r = await readBackgroundSessions(ctx, bin);
    assert.deepEqual(r, { sessions: [{ id: "c1a9d828", sessionId: "c1a9", kind: "background", name: "do it", cwd: "/p", state: "working", startedAt: new Date(1795816694429).toISOString(), pid: null }] });
  });

  test("no claude, a hang, an exit or no JSON array: a note naming what happened", async () => {
    assert.match((await readBackgroundSessions(ctx, join(dir, "absent"))).note!, /not read: .*absent not found/);
    const t0 = Date.now();
    const hung = await readBackgroundSessions(ctx, script("hang", "exec sleep 5"), 300);
    assert.ok(Date.now() - t0 < 2_000, "gave up at its deadline");
    assert.match(hung.note!, /did not answer within 0\.3 s/);
    assert.match((await readBackgroundSessions(ctx, script("fails", "exit 4"))).note!, /exited 4/);
    assert.match((await readBackgroundSessions(ctx, script("text", "echo hello"))).note!, /not JSON/);
    assert.equal((await readBackgroundSessions(ctx, script("object", "echo '{}'"))).sessions, null);
    assert.deepEqual(parseClaudeAgents("[]"), []);
  });
});
