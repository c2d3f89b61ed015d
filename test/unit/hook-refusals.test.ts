// A worker's `PermissionDenied` hook events count as refusals of its run, beside its stream's own:
// the tracker hears them from the record, and a call both report is counted once, whichever comes
// first. The stream is one recorded from the real CLI (2.1.331) or a few lines of its shape.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { ClaudeTracker } from "../../daemon/claude/tracker.js";
import { StateSnapshot } from "../../daemon/state-snapshot.js";
import type { EventLog } from "../../src/eventlog/append.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { REPO } from "../helpers/daemon.js";
import { FakeClock, MemoryLog, settle } from "../helpers/fakes.js";

/** An in-memory log that, like the daemon's, tells its listeners of each batch it records. */
class HeardLog extends MemoryLog {
  private readonly listeners = new Set<(records: EventRecord[]) => void>();
  subscribe(listener: (records: EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  override async append(inputs: EventInput[]): Promise<EventRecord[]> {
    const out = await super.append(inputs);
    for (const l of this.listeners) l(out);
    return out;
  }
}

const PROJECT = "/tmp/cpwd-cc-hSDVrh/project";
/** The real CLI's run whose Write of np.txt (toolu_0adtqfencwa9) its permission mode refused. */
const REFUSED_WRITE = readFileSync(join(REPO, "test", "fixtures", "claude", "stream-refused-write.jsonl"), "utf8");
const WRITE_ID = "toolu_0adtqfencwa9";

/** A run whose stream shows `calls` made and answered with an error, and reports no refusal of them. */
function quietStream(calls: Array<{ id: string; file: string }>): string {
  const lines: unknown[] = [{ type: "system", subtype: "init", cwd: PROJECT, session_id: "S1", permissionMode: "auto" }];
  for (const { id, file } of calls) {
    lines.push({ type: "assistant", message: { content: [{ type: "tool_use", id, name: "Write", input: { file_path: `${PROJECT}/${file}`, content: "x\n" } }] } });
    lines.push({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: id, is_error: true, content: "denied" }] } });
  }
  lines.push({ type: "result", subtype: "success", is_error: false, num_turns: 2, result: "could not write", session_id: "S1", total_cost_usd: 0.01 });
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

/** Calls `ids`, each refused by the permission mode as it is made (a `permission_denied` line); with `end`, the run's result lists them all again. */
function refusingStream(ids: string[], end: boolean): string {
  const lines: unknown[] = [{ type: "system", subtype: "init", cwd: PROJECT, session_id: "S1", permissionMode: "auto" }];
  for (const id of ids) {
    lines.push({ type: "assistant", message: { content: [{ type: "tool_use", id, name: "Write", input: { file_path: `${PROJECT}/${id}.txt`, content: "x\n" } }] } });
    lines.push({ type: "system", subtype: "permission_denied", tool_use_id: id, tool_name: "Write", message: "auto mode said no" });
    lines.push({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: id, is_error: true, content: "denied" }] } });
  }
  const denials = ids.map((id) => ({ tool_use_id: id, tool_name: "Write", tool_input: { file_path: `${PROJECT}/${id}.txt` } }));
  if (end) lines.push({ type: "result", subtype: "success", is_error: false, num_turns: 2, result: "could not write", session_id: "S1", total_cost_usd: 0.01, permission_denials: denials });
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

/** `hook.PermissionDenied` as the hook service records it for a call in W3's session. */
function hookDenied(toolUseId: string, file: string): EventInput {
  const payload = { toolUseId, hookEvent: "PermissionDenied", cwd: PROJECT, tool: "Write", filePath: `${PROJECT}/${file}`, reason: "auto mode said no", decision: "allow", durationMs: 0.4 };
  return { type: "hook.PermissionDenied", source: "hook", worker: "W3", session: "S1", payload };
}

let dir: string;
let stdout: string;
let log: HeardLog;
let tracker: ClaudeTracker;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-hook-refusals-"));
  stdout = join(dir, "stdout.log");
  log = new HeardLog(new FakeClock());
  tracker = new ClaudeTracker(log as unknown as EventLog, (err) => assert.fail(String(err)));
  await tracker.beginRun("W3", stdout);
  tracker.track("W3", stdout, dir);
});
afterEach(() => {
  tracker.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The run's output, read to its end (the run is still followed). */
async function output(text: string): Promise<void> {
  appendFileSync(stdout, text);
  tracker.overLimit("W3");
  await settle();
}

async function hook(...events: EventInput[]): Promise<void> {
  await log.append(events);
  await settle();
}

/** A daemon restarted: a tracker fed the record (what `keep` keeps of it) reads W3's run again to its end. */
async function restarted(keep: (e: EventRecord) => boolean = () => true): Promise<ClaudeTracker> {
  tracker.close();
  tracker = new ClaudeTracker(log as unknown as EventLog, (err) => assert.fail(String(err)));
  for (const e of log.records.filter(keep)) tracker.observe(e);
  tracker.track("W3", stdout, dir);
  tracker.untrack("W3");
  await settle();
  return tracker;
}

/**
 * A daemon restarted as the daemon starts: the areas replay what its state snapshot keeps of the
 * record (daemon/open-event-log.ts), not the whole record; the tracker then follows W3's run again.
 */
async function restartedFromSnapshot(): Promise<ClaudeTracker> {
  tracker.close();
  const state = new StateSnapshot(3_600_000);
  for (const e of log.records) state.apply(e);
  tracker = new ClaudeTracker(log as unknown as EventLog, (err) => assert.fail(String(err)));
  for (const e of state.records()) tracker.observe(e);
  tracker.track("W3", stdout, dir);
  tracker.overLimit("W3");
  await settle();
  return tracker;
}

/** The tracker's per-worker hook denials (private): what it holds must stay bounded. */
const heldDenials = () => (tracker as unknown as { hookDenials: Map<string, { run: number; denials: { values(): Iterable<unknown> } }> }).hookDenials;
/** How many hook denials the tracker holds for W3 (undefined: none at all). */
const heldForW3 = () => {
  const held = heldDenials().get("W3");
  return held && [...held.denials.values()].length;
};

const refusals = () => {
  const { refused, refusedCount, edits, editsRefused, needsAttention } = tracker.get("W3")!;
  return { ids: refused.map((r) => r.toolUseId), refusedCount, edits, editsRefused, needsAttention };
};
const deniedEvents = () => log.records.filter((r) => r.type === "permission.denied").map((r) => r.payload.toolUseId);

test("a call the stream refuses and the PermissionDenied hook reports too is one refusal", async () => {
  await output(REFUSED_WRITE);
  await hook(hookDenied(WRITE_ID, "np.txt"));
  tracker.untrack("W3");
  await settle();
  assert.deepEqual(refusals(), { ids: [WRITE_ID], refusedCount: 1, edits: 1, editsRefused: 1, needsAttention: true });
  assert.deepEqual(deniedEvents(), [WRITE_ID], "one permission.denied");

  // A daemon restarted reads the run again: the same one refusal, and no second event for it.
  const again = await restarted();
  assert.equal(again.get("W3")!.refusedCount, 1);
  assert.deepEqual(deniedEvents(), [WRITE_ID]);
});

test("the hook heard before the stream says it: still one refusal, and one event", async () => {
  await hook(hookDenied(WRITE_ID, "np.txt"));
  assert.equal(tracker.get("W3")!.refusedCount, 1, "counted the moment the hook reports it");
  await output(REFUSED_WRITE);
  tracker.untrack("W3");
  await settle();
  assert.deepEqual(refusals(), { ids: [WRITE_ID], refusedCount: 1, edits: 1, editsRefused: 1, needsAttention: true });
  assert.deepEqual(deniedEvents(), [WRITE_ID]);
});

test("a refusal only the hook reports is counted, named by its file with the hook's reason, and stays counted after a restart", async () => {
  await output(quietStream([{ id: "toolu_h1", file: "np.txt" }]));
  await hook(hookDenied("toolu_h1", "np.txt"));
  tracker.untrack("W3");
  await settle();
  assert.deepEqual(refusals(), { ids: ["toolu_h1"], refusedCount: 1, edits: 1, editsRefused: 1, needsAttention: true });
  assert.deepEqual(tracker.get("W3")!.refused[0], { tool: "Write", target: "np.txt", toolUseId: "toolu_h1", reason: "auto mode said no" });
  assert.deepEqual(deniedEvents(), ["toolu_h1"]);
  const recorded = log.records.filter((r) => r.type === "worker.claude").at(-1)!;
  assert.equal(recorded.payload.refusedCount, 1, "the record says it");

  // A daemon restarted: a tracker fed the record reads the run again and still counts the hook's refusal.
  const again = await restarted();
  assert.equal(again.get("W3")!.refusedCount, 1);
  assert.deepEqual(deniedEvents(), ["toolu_h1"], "heard before: not news again");

  // Even from a snapshot that kept W3's latest worker.claude and none of its hook calls.
  const fromSnapshot = await restarted((e) => e.type === "worker.claude");
  assert.equal(fromSnapshot.get("W3")!.refusedCount, 1);
});

test("two calls, one refused in the stream and one only by the hook, are two refusals", async () => {
  await output(REFUSED_WRITE);
  await hook(hookDenied("toolu_other", "other.txt"));
  tracker.untrack("W3");
  await settle();
  // The hook's call is an edit attempted too, though this stream never shows it.
  assert.deepEqual(refusals(), { ids: [WRITE_ID, "toolu_other"], refusedCount: 2, edits: 2, editsRefused: 2, needsAttention: true });
  assert.deepEqual(deniedEvents(), [WRITE_ID, "toolu_other"]);
});

test("a hook denial of another worker, or with no tool call, is not this run's", async () => {
  await output(quietStream([]));
  await hook({ ...hookDenied("toolu_x", "a.txt"), worker: "W4" }, { ...hookDenied("", "a.txt"), payload: { hookEvent: "PermissionDenied", tool: "Write" } });
  tracker.untrack("W3");
  await settle();
  assert.equal(tracker.get("W3")!.refusedCount, 0);
  assert.deepEqual(deniedEvents(), []);
});

test("a run with more refusals than the record names, read again after a restart, records none of them again", async () => {
  const ids = Array.from({ length: 30 }, (_, i) => `toolu_r${i + 1}`);
  await output(refusingStream(ids, false));
  assert.equal(tracker.get("W3")!.refusedCount, 30);
  assert.equal(tracker.get("W3")!.refused.length, 20, "the record names the first 20");
  assert.deepEqual(deniedEvents(), ids);

  // Restarted as the daemon is: from what its snapshot keeps (no permission.denied, one worker.claude).
  const again = await restartedFromSnapshot();
  assert.deepEqual(deniedEvents(), ids, "no refusal recorded twice");
  assert.equal(again.get("W3")!.refusedCount, 30);

  // The run goes on: its next refusal, and the result listing all 31, are news once.
  const next = ids.concat("toolu_r31");
  await output(refusingStream(next, true).split("\n").slice(1 + 3 * 30).join("\n"));
  tracker.untrack("W3");
  await settle();
  assert.deepEqual(deniedEvents(), next);
  assert.equal(tracker.get("W3")!.refusedCount, 31);

  // And again, from the whole record this time.
  await restarted();
  assert.deepEqual(deniedEvents(), next);
  assert.equal(tracker.get("W3")!.refusedCount, 31);
});

test("the hook denials held per worker: each call once, the current run's only, none once the worker is removed", async () => {
  await output(quietStream([{ id: "toolu_h1", file: "np.txt" }]));
  await hook(hookDenied("toolu_h1", "np.txt"), hookDenied("toolu_h1", "np.txt"));
  await hook(hookDenied("toolu_h1", "np.txt"));
  assert.equal(heldForW3(), 1, "the same call held once");
  assert.deepEqual(deniedEvents(), ["toolu_h1"]);

  // A new run: the last run's denials go as it begins.
  tracker.untrack("W3");
  await tracker.beginRun("W3", stdout);
  assert.equal(heldDenials().has("W3"), false);
  tracker.track("W3", stdout, dir);
  await hook(hookDenied("toolu_h2", "other.txt"));
  assert.equal(heldForW3(), 1);

  // Removed (as the daemon records it, heard live): nothing of W3 is held.
  tracker.untrack("W3");
  await log.append([{ type: "worker.removed", worker: "W3", payload: {} }]);
  await settle();
  assert.equal(heldDenials().has("W3"), false);

  // A tracker replaying that record holds nothing of W3 either.
  tracker.close();
  tracker = new ClaudeTracker(log as unknown as EventLog, (err) => assert.fail(String(err)));
  for (const e of log.records) tracker.observe(e);
  assert.equal(heldDenials().size, 0);
});
