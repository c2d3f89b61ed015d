// The transcript `cpwd logs` prints for a Claude worker, rendered from stream-json recorded from the
// real Claude Code CLI (2.1.331, offline against the fake Messages API): test/fixtures/claude/, where
// each whole-run recording `<name>.jsonl` has beside it the transcript it must render as.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { renderTranscript, streamLineTime, toolTarget, TranscriptRenderer } from "../../cli/format/transcript.js";
import { REPO } from "../helpers/daemon.js";

function recorded(name: string): string {
  return readFileSync(join(REPO, "test", "fixtures", "claude", name), "utf8");
}

/** The transcript a recording must render as, a line an entry: `<name>.transcript.txt` beside `<name>.jsonl`. */
function expectedTranscript(name: string): string[] {
  const text = recorded(`${name}.transcript.txt`);
  assert.ok(text.endsWith("\n"), `${name}.transcript.txt ends with a newline`);
  return text.slice(0, -1).split("\n");
}

test("a run whose Write was refused by the permission mode reads as calls, results, the refusal and the result", () => {
  assert.deepEqual(renderTranscript(recorded("stream-refused-write.jsonl")), expectedTranscript("stream-refused-write"));
});

test("a Write denied by a PreToolUse hook is marked as refused by hook, with the hook's reason; hook progress lines are not shown", () => {
  assert.deepEqual(renderTranscript(recorded("stream-hook-deny.jsonl")), expectedTranscript("stream-hook-deny"));
});

test("a refusal is shown once, though both the permission_denied line and the tool_result report it", () => {
  const out = renderTranscript(recorded("stream-refused-write.jsonl"));
  assert.equal(out.filter((l) => l.includes("✗ refused")).length, 1);
});

test("a line that is not JSON passes through as it is; unknown types and fields are skipped", () => {
  const r = new TranscriptRenderer();
  assert.deepEqual(r.push("Error: something crashed at startup"), ["Error: something crashed at startup"]);
  assert.deepEqual(r.push(JSON.stringify({ type: "stream_event", event: {} })), []);
  assert.deepEqual(r.push(JSON.stringify({ type: "system", subtype: "brand_new_thing", x: 1 })), []);
  assert.deepEqual(r.push("[1,2]"), ["[1,2]"]);
  assert.deepEqual(r.push(""), []);
  assert.deepEqual(r.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "hi", future: true }, { type: "mystery" }] }, newField: 1 })), ["hi"]);
});

test("a tool that ran and failed is an error, not a refusal, even when the OS said permission denied", () => {
  const r = new TranscriptRenderer();
  r.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "cat /root/x" } }] } }));
  const out = r.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", is_error: true, content: "Exit code 1\ncat: /root/x: Permission denied" }] } }));
  assert.deepEqual(out, ["  ✗ error: Exit code 1", "    cat: /root/x: Permission denied"]);
});

test("a long tool result is cut to three lines and long lines end in …", () => {
  const r = new TranscriptRenderer();
  r.push(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Read", input: { file_path: "/a/b.ts" } }] } }));
  const body = ["x".repeat(500), ...Array.from({ length: 9 }, (_, i) => `line ${i}`)].join("\n");
  const out = r.push(JSON.stringify({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: body }] }] } }));
  assert.equal(out.length, 4);
  assert.equal(out[0]!.length, "  ⎿ ".length + 160);
  assert.ok(out[0]!.endsWith("…"));
  assert.equal(out[3], "    … +7 lines");
});

test("an error result names its kind; a subagent's messages are indented", () => {
  const r = new TranscriptRenderer();
  assert.deepEqual(r.push(JSON.stringify({ type: "assistant", parent_tool_use_id: "t0", message: { content: [{ type: "text", text: "sub" }] } })), ["  ┆ sub"]);
  assert.deepEqual(r.push(JSON.stringify({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 1, total_cost_usd: 0.5, duration_ms: 125_000 })), ["── error (error_max_turns) · 1 turn · $0.5000 · 2m 5s"]);
});

test("a tool call's key input: a path relative to the session folder, a command's first line, a search", () => {
  assert.equal(toolTarget({ file_path: "/p/src/a.ts", content: "x" }, "/p"), "src/a.ts");
  assert.equal(toolTarget({ file_path: "/elsewhere/a.ts" }, "/p"), "/elsewhere/a.ts");
  assert.equal(toolTarget({ command: "npm test\necho done", description: "Run tests" }, "/p"), "npm test …");
  assert.equal(toolTarget({ pattern: "TODO", path: "/p/src" }, "/p"), "TODO in src");
  assert.equal(toolTarget({ todos: [{}, {}] }, null), "2 items");
  assert.equal(toolTarget({ whatever: "some value" }, null), "some value");
  assert.equal(toolTarget(null, null), "");
});

test("a message's own time is read from its timestamp; lines without one have none", () => {
  const lines = recorded("stream-refused-write.jsonl").trim().split("\n");
  assert.equal(streamLineTime(lines[1]!), Date.parse("2026-11-27T20:53:06.662Z"));
  assert.equal(streamLineTime(lines[0]!), null);
  assert.equal(streamLineTime("not json"), null);
});
