// Refused actions read from streams recorded from the real CLI (2.1.331): a permission mode's
// refusal and a PreToolUse hook's, each reported once though the stream says it up to three times.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StreamParser } from "../../daemon/claude/stream-parser.js";
import { refusedTarget } from "../../daemon/claude/refusals.js";
import { REPO } from "../helpers/daemon.js";

const stream = (name: string) => readFileSync(join(REPO, "test", "fixtures", "claude", name), "utf8");

test("a Write refused by the permission mode: one refusal, named by file, with Claude Code's message, the moment it is refused", () => {
  const text = stream("stream-refused-write.jsonl");
  const p = new StreamParser();
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.includes('"subtype":"permission_denied"'));
  p.push(`${lines.slice(0, at + 1).join("\n")}\n`);
  const early = p.takeRefused();
  assert.deepEqual(early.map((r) => `${r.tool} ${r.target} ${r.toolUseId}`), ["Write np.txt toolu_0adtqfencwa9"], "known before the run ends");
  assert.match(early[0]!.reason!, /^Claude requested permissions to write to .*np\.txt, but you haven't granted it yet\.$/);
  p.push(`${lines.slice(at + 1).join("\n")}`);
  assert.deepEqual(p.takeRefused(), [], "the tool result and the result line say it again: not a second refusal");
  assert.equal(p.progress.permissionMode, "default");
  assert.deepEqual({ ...p.progress.refusals, refused: p.progress.refusals.refused.length }, { refused: 1, refusedCount: 1, edits: 1, editsRefused: 1 });
});

test("a Write a PreToolUse hook denied is a refusal too, with the hook's reason", () => {
  const p = new StreamParser();
  p.push(stream("stream-hook-deny.jsonl"));
  const [r, ...more] = p.takeRefused();
  assert.equal(more.length, 0);
  assert.equal(`${r!.tool} ${r!.target}`, "Write notes.md");
  assert.equal(r!.reason, "PreToolUse:Write hook error: W2 (tests) holds notes.md since 3m");
  assert.equal(p.progress.permissionMode, "acceptEdits");
});

test("a result line alone (no earlier lines read) still names every refused action", () => {
  const p = new StreamParser();
  const result = { type: "result", subtype: "success", is_error: false, permission_denials: [{ tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "npm test\nnpm run lint" } }] };
  assert.equal(p.push(`${JSON.stringify(result)}\n`), true);
  assert.deepEqual(p.takeRefused(), [{ tool: "Bash", target: "npm test", toolUseId: "t1" }]);
  assert.equal(p.progress.refusals.edits, 0, "no edit was attempted: not every edit refused");
});

test("a refused action's target: a file inside the session's folder relative to it, else as given", () => {
  assert.equal(refusedTarget({ file_path: "/p/src/a.ts" }, "/p"), "src/a.ts");
  assert.equal(refusedTarget({ file_path: "/etc/hosts" }, "/p"), "/etc/hosts");
  assert.equal(refusedTarget({ command: "x".repeat(200) }, null).length, 120);
  assert.equal(refusedTarget(undefined, "/p"), "");
});
