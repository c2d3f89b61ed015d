// What the shim forwards of a hook's input: small however large the tool call (slimHookInput),
// and the fields cpwd needs salvaged from the head of an input too large to read (salvageHookInput).
import assert from "node:assert/strict";
import { test } from "node:test";
import { editedFile, salvageHookInput, slimHookInput, SLIM_STRING_CHARS, summarizeHook, type HookInput } from "../../src/protocol/hooks.js";

const big = "y".repeat(3 * 1024 * 1024);

test("a Write of megabytes is forwarded as a few hundred bytes that still name the file", () => {
  const input: HookInput = {
    session_id: "s1",
    transcript_path: "/t.jsonl",
    cwd: "/repo",
    hook_event_name: "PreToolUse",
    tool_name: "Write",
    tool_input: { file_path: "/repo/a.ts", content: big, nested: { deep: big } },
    tool_response: { output: big },
    effort: 3,
    flag: true,
  };
  const slim = slimHookInput(input);
  assert.ok(JSON.stringify(slim).length < 2 * SLIM_STRING_CHARS, String(JSON.stringify(slim).length));
  assert.equal(editedFile(slim), "/repo/a.ts");
  assert.deepEqual(
    { session_id: slim.session_id, cwd: slim.cwd, tool_name: slim.tool_name, effort: slim.effort, flag: slim.flag, response: slim.tool_response },
    { session_id: "s1", cwd: "/repo", tool_name: "Write", effort: 3, flag: true, response: undefined },
  );
  assert.equal((slim.tool_input as Record<string, unknown>).nested, undefined);
});

test("the record keeps the true sizes of what was cut", () => {
  const prompt = "p".repeat(SLIM_STRING_CHARS + 10);
  const command = "c".repeat(SLIM_STRING_CHARS * 3);
  const slim = slimHookInput({ hook_event_name: "UserPromptSubmit", prompt, tool_input: { command } });
  assert.equal((slim.prompt as string).length, SLIM_STRING_CHARS);
  const summary = summarizeHook(slim);
  assert.equal(summary.promptChars, prompt.length);
  assert.equal(summary.commandChars, command.length);
  // An input small enough is forwarded unchanged in what matters.
  assert.deepEqual(summarizeHook(slimHookInput({ hook_event_name: "UserPromptSubmit", prompt: "hi" })), summarizeHook({ hook_event_name: "UserPromptSubmit", prompt: "hi" }));
});

test("from the head of an oversized input: the event, the session, the tool and its file", () => {
  const whole = JSON.stringify({
    session_id: "s2",
    transcript_path: "/t",
    cwd: "/w d",
    hook_event_name: "PreToolUse",
    tool_name: "Write",
    tool_input: { file_path: '/w d/q"uote.ts', content: big },
  });
  const got = salvageHookInput(whole.slice(0, 64 * 1024));
  assert.deepEqual(got, { session_id: "s2", transcript_path: "/t", cwd: "/w d", hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { file_path: '/w d/q"uote.ts' } });
});

test("file content that looks like a key is never taken for one", () => {
  const sneaky = '"file_path": "/etc/passwd", "hook_event_name": "Stop"';
  const head = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { content: sneaky + big } }).slice(0, 64 * 1024);
  const got = salvageHookInput(head);
  assert.equal(got?.hook_event_name, "PreToolUse");
  assert.equal(got?.tool_input, undefined, "the path comes after the head: unknown, not invented");
});

test("a head without an event name salvages nothing", () => {
  assert.equal(salvageHookInput('{"session_id":"s","tool_input":{"content":"'), null);
  assert.equal(salvageHookInput(""), null);
});

test("paths are never cut at the string limit: a padded path still names its file", () => {
  const padded = `/repo/${"./".repeat(2100)}src/b.ts`;
  const slim = slimHookInput({ hook_event_name: "PreToolUse", tool_name: "Write", cwd: `/w/${"./".repeat(2100)}`, tool_input: { file_path: padded, content: "x" } });
  assert.equal(editedFile(slim), padded);
  assert.equal(slim.cwd, `/w/${"./".repeat(2100)}`);
});
