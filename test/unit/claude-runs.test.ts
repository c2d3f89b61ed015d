// A Claude worker's runs, on the tracker with a real stdout.log and an in-memory log: each run is
// numbered and read from where its own output begins, so a second run (a --resume) shows its own
// session, cost and result, the worker's total adds them up, and a run over its limit is reported.
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { claudeLifecycle } from "../../daemon/claude/claude-lifecycle.js";
import { ClaudeTracker } from "../../daemon/claude/tracker.js";
import type { EventLog } from "../../src/eventlog/append.js";
import { FakeClock, MemoryLog, settle } from "../helpers/fakes.js";

let dir: string;
let log: MemoryLog;
let stdout: string;

/** The lines of one `claude -p` run: init, an assistant message, the result. */
function run(session: string, text: string, sessionCost: number, runCost: number, subtype = "success"): string {
  const lines = [
    { type: "system", subtype: "init", session_id: session, model: "claude-opus-5-5" },
    { type: "assistant", session_id: session, message: { content: [{ type: "text", text }] } },
    {
      type: "result", subtype, is_error: subtype !== "success", num_turns: 1, duration_ms: 10, result: text, session_id: session,
      total_cost_usd: sessionCost, model_usage_since_last_result: { "claude-opus-5-5": { costUSD: runCost } },
    },
  ];
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-runs-"));
  stdout = join(dir, "stdout.log");
  log = new MemoryLog(new FakeClock());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tracker = (onOverLimit?: (id: string, reason: string) => void) =>
  new ClaudeTracker(log as unknown as EventLog, (err) => assert.fail(String(err)), onOverLimit);

/** One whole run of W3 as the daemon sees it: recorded, launched, its output written, ended. */
async function runW3(t: ClaudeTracker, output: string): Promise<void> {
  await t.beginRun("W3", stdout);
  t.track("W3", stdout, dir);
  appendFileSync(stdout, output);
  t.untrack("W3");
  await settle();
}

test("a second run is read from where its output begins: its own session, result and cost, and the total of both", async () => {
  const t = tracker();
  await runW3(t, run("S1", "first answer", 0.25, 0.25));
  const { sessionId, turns, costUsd, subtype, result, done, run: n, totalCostUsd } = t.get("W3")!;
  assert.deepEqual({ sessionId, turns, costUsd, subtype, result, done, n, totalCostUsd }, {
    sessionId: "S1", turns: 1, costUsd: 0.25, subtype: "success", result: "first answer", done: true, n: 1, totalCostUsd: 0.25,
  });
  // The resumed run: Claude Code reports the session's total, 0.25 + 0.1; the run cost 0.1.
  await t.beginRun("W3", stdout);
  assert.equal(t.get("W3")!.run, 2);
  assert.equal(t.get("W3")!.result, null, "the new run shows nothing of the first");
  t.track("W3", stdout, dir);
  appendFileSync(stdout, run("S1", "second answer", 0.35, 0.1));
  t.untrack("W3");
  await settle();
  const second = t.get("W3")!;
  assert.equal(second.run, 2);
  assert.equal(second.result, "second answer");
  assert.equal(second.costUsd, 0.1);
  assert.ok(Math.abs(second.totalCostUsd! - 0.35) < 1e-9);
  const offsets = log.records.filter((r) => r.type === "worker.claude").map((r) => [r.payload.run, r.payload.logOffset]);
  assert.deepEqual([...new Set(offsets.map((o) => JSON.stringify(o)))].map((o) => JSON.parse(o)), [[1, 0], [2, Buffer.byteLength(run("S1", "first answer", 0.25, 0.25))]]);
});

test("replayed, the runs come back: a tracker fed the log knows the current run and where it begins", async () => {
  const t = tracker();
  await runW3(t, run("S1", "first", 0.2, 0.2));
  await t.beginRun("W3", stdout);
  await settle();
  // A daemon restart while run 2 runs: the new tracker replays the log and adopts the worker.
  const again = tracker();
  for (const r of log.records) again.observe(r);
  again.track("W3", stdout, dir);
  appendFileSync(stdout, run("S1", "second", 0.5, 0.3));
  again.untrack("W3");
  await settle();
  assert.equal(again.get("W3")!.run, 2);
  assert.equal(again.get("W3")!.result, "second");
  assert.ok(Math.abs(again.get("W3")!.totalCostUsd! - 0.5) < 1e-9);
  assert.ok(Math.abs(again.spentSince(0) - 0.5) < 1e-9);
});

test("a run over its limit is reported once, with the reason; overLimit says it as the run ends", async () => {
  const reported: string[] = [];
  const t = tracker((id, reason) => reported.push(`${id}: ${reason}`));
  await t.beginRun("W4", stdout);
  t.track("W4", stdout, dir, 0.05);
  appendFileSync(stdout, run("S2", "expensive", 0.08, 0.08, "error_max_budget_usd"));
  assert.equal(t.overLimit("W4"), "over its cost limit: $0.08 spent, --max-cost $0.05");
  assert.equal(t.overLimit("W4"), "over its cost limit: $0.08 spent, --max-cost $0.05");
  assert.deepEqual(reported, ["W4: over its cost limit: $0.08 spent, --max-cost $0.05"]);
  t.untrack("W4");
  await settle();
});

test("records written before runs were numbered read as run 1 from the start of the log", () => {
  const t = tracker();
  t.observe({ v: 1, seq: 1, ts: new Date().toISOString(), type: "worker.claude", source: "daemon", worker: "W1", payload: { sessionId: "S", costUsd: 0.5, done: true, result: "old" } });
  assert.equal(t.get("W1")!.run, 1);
  assert.equal(t.get("W1")!.totalCostUsd, 0.5);
});

test("a run that ended while the daemon was down is read as its end is recorded: its result and cost count, its limit is judged", async () => {
  const logs = join(dir, "logs");
  mkdirSync(logs);
  const out = join(logs, "stdout.log");
  const t = tracker();
  await t.beginRun("W5", out);
  // The daemon was down for the whole run: nobody followed it.
  appendFileSync(out, run("S5", "done meanwhile", 0.9, 0.9));
  const lifecycle = claudeLifecycle(t, dir);
  const w = { id: "W5", meta: { kind: "claude", maxCostUsd: 0.5 } } as never;
  assert.equal(lifecycle.stoppedBecause!(w, dir), "over its cost limit: $0.90 spent, --max-cost $0.50");
  lifecycle.ended!(w);
  await settle();
  assert.equal(t.get("W5")!.result, "done meanwhile");
  assert.ok(Math.abs(t.spentSince(0) - 0.9) < 1e-9);
  assert.equal(t.follows("W5"), false);
});
