// Reading missed tool calls back from a Claude Code transcript: the lenient parse, the bounded read,
// which calls count as missed, and that a daemon replaying its record recovers nothing twice.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { callsInLines, readTranscriptTail } from "../../daemon/coordination/transcript-tail.js";
import { missedCalls, TranscriptRecovery } from "../../daemon/coordination/transcript-recovery.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { checkEventPayload } from "../../src/protocol/events.js";

const S = "sess-1";
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A transcript's lines as Claude Code 2.1.331 writes them (the fields cpwd reads, and some it does not). */
function use(id: string, name: string, input: Record<string, unknown>, s: number): string {
  return JSON.stringify({ type: "assistant", uuid: `u-${id}`, sessionId: S, timestamp: iso(s), isSidechain: false, message: { role: "assistant", content: [{ type: "tool_use", id, name, input, caller: { type: "direct" } }] } });
}
function result(id: string, s: number, isError = false): string {
  return JSON.stringify({ type: "user", sessionId: S, timestamp: iso(s), toolUseResult: { x: 1 }, message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "secret output", is_error: isError }] } });
}
function writes(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, k) => k + from).flatMap((i) => [use(`t${i}`, "Write", { file_path: `/p/f${i}.txt`, content: "body" }, i * 2), result(`t${i}`, i * 2 + 1)]);
}

test("the calls of a transcript come in order with their file, time and whether they were answered; nothing else is kept", () => {
  const lines = [
    JSON.stringify({ type: "queue-operation", operation: "enqueue", sessionId: S }),
    ...writes(2),
    use("b1", "Bash", { command: "echo secret" }, 10),
    result("b1", 11, true),
    use("e1", "Edit", { file_path: "/p/a.ts", old_string: "a", new_string: "b" }, 12),
    use("o1", "Write", { file_path: "/p/other.txt" }, 13).replace(`"sessionId":"${S}"`, '"sessionId":"other"'),
    '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"torn"',
  ];
  const calls = callsInLines(lines, S);
  assert.deepEqual(calls, [
    { toolUseId: "t0", tool: "Write", filePath: "/p/f0.txt", at: iso(0), answered: true, isError: false },
    { toolUseId: "t1", tool: "Write", filePath: "/p/f1.txt", at: iso(2), answered: true, isError: false },
    { toolUseId: "b1", tool: "Bash", at: iso(10), answered: true, isError: true },
    { toolUseId: "e1", tool: "Edit", filePath: "/p/a.ts", at: iso(12), answered: false },
  ]);
});

test("the missed calls are those after the one the record covers, else those after its latest event; answered, not seen", () => {
  const calls = callsInLines([...writes(5), use("t5", "Write", { file_path: "/p/f5.txt" }, 10)], S);
  const ids = (m: { toolUseId: string }[]) => m.map((c) => c.toolUseId);
  assert.deepEqual(ids(missedCalls(calls, { lastMs: T0 + 99_000, toolUseId: "t1" }, new Set())), ["t2", "t3", "t4"], "by position, whatever the times");
  assert.deepEqual(ids(missedCalls(calls, { lastMs: T0 + 3_500 }, new Set())), ["t2", "t3", "t4"], "by time without an id");
  assert.deepEqual(ids(missedCalls(calls, { lastMs: T0 + 3_500, toolUseId: "gone" }, new Set())), ["t2", "t3", "t4"], "by time when the id is no longer in the tail");
  assert.deepEqual(ids(missedCalls(calls, { lastMs: 0, toolUseId: "t1" }, new Set(["t3"]))), ["t2", "t4"], "a call this daemon saw is not recovered");
  assert.deepEqual(ids(missedCalls(calls, { lastMs: 0, toolUseId: "t1", fallbackMs: T0 + 6_500 }, new Set())), ["t4"], "nor one the shim's fallback log recorded (by then)");
});

test("a transcript is read from its last bytes only, a torn last line dropped; a missing file, a FIFO or another name gives nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-transcript-"));
  try {
    const file = join(dir, `${S}.jsonl`);
    const lines = writes(200);
    writeFileSync(file, lines.join("\n") + "\n" + lines[0]!.slice(0, 30));
    const all = await readTranscriptTail(file);
    assert.deepEqual(all, lines, "whole, less the torn last line");
    const tail = await readTranscriptTail(file, 1_000);
    assert.ok(tail!.length > 0 && tail!.length < 10);
    assert.deepEqual(tail, lines.slice(-tail!.length), "only complete lines from the end");
    assert.deepEqual(await readTranscriptTail(file, 1_000, Date.now() + 60_000), [], "not modified since: nothing read");
    assert.equal(await readTranscriptTail(join(dir, "missing.jsonl")), null);
    assert.equal(await readTranscriptTail("relative.jsonl"), null);
    writeFileSync(join(dir, "notes.txt"), lines.join("\n"));
    assert.equal(await readTranscriptTail(join(dir, "notes.txt")), null, "only *.jsonl");
    execFileSync("mkfifo", [join(dir, "fifo.jsonl")]);
    assert.equal(await readTranscriptTail(join(dir, "fifo.jsonl")), null, "a FIFO is not read (and does not hang)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A recovery over an in-memory record: appended events get a seq and are fed back, as the log does. */
function recoveryOver(record: EventRecord[]): TranscriptRecovery {
  const quiet = { debug() {}, warn() {} };
  const r: TranscriptRecovery = new TranscriptRecovery({
    log: quiet,
    append: async (events: EventInput[]) => {
      for (const e of events) {
        checkEventPayload(e);
        const rec = { v: 1, seq: record.length + 1, ts: new Date().toISOString(), source: "daemon", ...e } as EventRecord;
        record.push(rec);
        r.observe(rec);
      }
    },
  });
  for (const e of record) r.observe(e);
  return r;
}

function hookEvent(record: EventRecord[], type: string, s: number, toolUseId?: string): void {
  record.push({ v: 1, seq: record.length + 1, ts: iso(s), type, source: "hook", session: S, payload: { hookEvent: type.slice(5), ...(toolUseId ? { toolUseId, tool: "Write" } : {}) } });
}

test("a session's first HTTP call after a gap records the calls it missed, once, and a restarted daemon recovers none again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-transcript-"));
  try {
    const file = join(dir, `${S}.jsonl`);
    const record: EventRecord[] = [];
    hookEvent(record, "hook.SessionStart", -1);
    hookEvent(record, "hook.PreToolUse", 0, "t0");
    hookEvent(record, "hook.PostToolUse", 1, "t0");
    // The daemon was down for t1..t3; t4 is the call whose PreToolUse brings the session back.
    writeFileSync(file, [...writes(4), use("t4", "Write", { file_path: "/p/f4.txt" }, 8)].join("\n") + "\n");
    const call = (id: string) => ({ hook_event_name: "PreToolUse", session_id: S, transcript_path: file, tool_name: "Write", tool_use_id: id, cpwd_via: "http" });

    const first = recoveryOver(record);
    const { cpwd_via: _, ...viaShim } = call("t4");
    first.noteCall(viaShim, undefined);
    await first.settled();
    assert.equal(record.length, 3, "a call through the shim reads nothing: the shim's calls are never lost");
    first.noteCall(call("t4"), undefined);
    hookEvent(record, "hook.PreToolUse", 9, "t4");
    first.noteCall(call("t4"), undefined);
    await first.settled();
    const recovered = () => record.filter((e) => e.type === "hook.recovered");
    assert.deepEqual(recovered().map((e) => e.payload.toolUseId), ["t1", "t2", "t3"]);
    assert.deepEqual(recovered()[0]!.payload, { tool: "Write", toolUseId: "t1", filePath: "/p/f1.txt", at: iso(2), isError: false, recovered: true, from: "transcript", upto: "t4" });
    assert.ok(!JSON.stringify(recovered()).includes("body") && !JSON.stringify(recovered()).includes("secret"), "no contents, no output");
    first.noteCall(call("t4"), undefined);
    await first.settled();
    assert.equal(recovered().length, 3, "at most once per session per gap");

    // The session goes on (t4 answered, t5 made); the daemon restarts: the whole record replayed,
    // then only the session's last event (as a snapshot keeps it).
    writeFileSync(file, [...writes(5), use("t5", "Write", { file_path: "/p/f5.txt" }, 10)].join("\n") + "\n");
    for (const history of [record.slice(), [record.at(-1)!]]) {
      const before = history.length;
      const again = recoveryOver(history);
      again.noteCall(call("t5"), undefined);
      await again.settled();
      assert.equal(history.length, before, "nothing recovered twice");
    }
    // A session the record never heard of is not read at all.
    const none: EventRecord[] = [];
    const unknown = recoveryOver(none);
    unknown.noteCall(call("t4"), undefined);
    await unknown.settled();
    assert.deepEqual(none, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
