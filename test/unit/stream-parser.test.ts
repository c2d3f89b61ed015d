// Parsing `claude -p --output-format stream-json --verbose` output as it arrives.
import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamParser } from "../../daemon/claude/stream-parser.js";

const lines = [
  { type: "system", subtype: "init", session_id: "sess-1", model: "claude-x", tools: ["Write"] },
  { type: "assistant", message: { content: [{ type: "tool_use", name: "Write" }] }, session_id: "sess-1" },
  { type: "user", message: { content: [{ type: "tool_result" }] } },
  { type: "system", subtype: "hook_started" },
  { type: "assistant", message: { content: [{ type: "text", text: "done" }] } },
  { type: "result", subtype: "success", is_error: false, duration_ms: 1234, num_turns: 2, result: "All done.\nSecond line", session_id: "sess-1", total_cost_usd: 0.0123 },
];

test("session, turns, cost and result are read as lines arrive, split anywhere", () => {
  const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
  for (const cut of [1, 17, 100, text.length - 3]) {
    const p = new StreamParser();
    p.push(text.slice(0, cut));
    p.push(text.slice(cut));
    assert.deepEqual(p.progress, {
      sessionId: "sess-1",
      model: "claude-x",
      turns: 2,
      costUsd: 0.0123,
      isError: false,
      subtype: "success",
      result: "All done.\nSecond line",
      durationMs: 1234,
      done: true,
      permissionMode: null,
      refusals: { refused: [], refusedCount: 0, edits: 0, editsRefused: 0 },
    });
  }
});

test("noise lines and unknown types are skipped; an error result is flagged", () => {
  const p = new StreamParser();
  assert.equal(p.push("warning: something\n{\"type\":\"mystery\"}\n"), false);
  assert.equal(p.push(`${JSON.stringify({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 5 })}\n`), true);
  assert.equal(p.progress.isError, true);
  assert.equal(p.progress.subtype, "error_max_turns");
  assert.equal(p.progress.turns, 5);
});
