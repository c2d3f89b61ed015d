// A snapshot forgets Claude Code sessions gone for good (no event for a day and the view's keep):
// thousands of sessions long over leave nothing in it, the sessions still about rebuild as from
// the whole history, and a gone session that comes back is treated as new — no old news.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DigestBook, type WorkerSummary } from "../../daemon/coordination/digests.js";
import { NativeWork } from "../../daemon/coordination/native-work.js";
import { StateSnapshot } from "../../daemon/state-snapshot.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { applyWorkerEvent, emptyWorkersState } from "../../src/workers/replay.js";
import { workerSpec as spec } from "../helpers/worker-events.js";

const KEEP_MS = 3_600_000;
const DAY = 24 * 3_600_000;
const OLD_SESSIONS = 5_000;

/** A record built event by event, with its own clock. */
function recorder() {
  const events: EventRecord[] = [];
  let ts = Date.parse("2026-11-01T00:00:00Z");
  const add = (type: string, payload: Record<string, unknown>, extra: { worker?: string; session?: string } = {}, stepMs = 1_000) => {
    ts += stepMs;
    events.push({ v: 1, seq: events.length + 1, ts: new Date(ts).toISOString(), type, source: type.startsWith("hook.") ? "hook" : "daemon", ...extra, payload });
  };
  const wait = (ms: number) => void (ts += ms);
  const worker = (k: number) => {
    const w = { worker: `W${k}` };
    add("worker.queued", { spec: { ...spec, name: `job-${k}` } }, w);
    add("worker.starting", { attempt: 0 }, w);
    add("worker.started", { pid: k, wrapperPid: k, startedAtMs: ts }, w);
    add("worker.exited", { state: "exited", code: 0, signal: null, timedOut: false, runMs: 5, endedAtMs: ts }, w);
  };
  return { events, add, wait, worker };
}

/** Thousands of sessions a day long ago (half end, half just go silent), then a worker that ends after them. */
function oldSessions(r: ReturnType<typeof recorder>): void {
  for (let k = 0; k < OLD_SESSIONS; k++) {
    const session = { session: `old-${k}` };
    r.add("hook.SessionStart", {}, k % 7 === 0 ? { ...session, worker: "W1" } : session);
    r.add("hook.PreToolUse", { tool: "Agent", toolUseId: `a${k}`, description: `look ${k}` }, session);
    r.add("hook.SubagentStart", { agentId: `g${k}`, toolUseId: `a${k}` }, session);
    r.add("hook.UserPromptSubmit", {}, session);
    r.add("digest.delivered", { uptoSeq: r.events.length, workers: 1, overview: false }, session);
    if (k % 2 === 0) r.add("hook.SessionEnd", {}, session);
  }
  r.worker(2);
}

/** What the digest and native folds give, folded from `events`. */
function areas(events: Iterable<EventRecord>, sessions: string[], nowMs: number) {
  const workers = emptyWorkersState();
  const digests = new DigestBook(KEEP_MS);
  const native = new NativeWork(KEEP_MS);
  let lastSeq = 0;
  for (const e of events) {
    applyWorkerEvent(workers, e);
    digests.observe(e);
    native.apply(e);
    lastSeq = Math.max(lastSeq, e.seq);
  }
  const summaries: WorkerSummary[] = [...workers.workers.values()].map((w) => ({ id: w.id, state: w.state, exitCode: w.exitCode, endedAtMs: w.endedAtMs, startedAtMs: w.startedAtMs }));
  return {
    known: sessions.map((s) => digests.knows(s)),
    digests: sessions.map((s) => digests.digest(s, summaries, lastSeq, nowMs, false)?.text ?? null),
    native: native.view(nowMs),
  };
}

test("sessions gone for more than a day leave nothing in the snapshot, and those still about rebuild as from the whole history", () => {
  const r = recorder();
  oldSessions(r);
  r.wait(3 * DAY);
  // Two sessions still about: one that heard a digest an hour ago, one with a subagent running.
  r.add("hook.SessionStart", {}, { session: "live-1" });
  r.add("digest.delivered", { uptoSeq: r.events.length, workers: 1, overview: true }, { session: "live-1" });
  r.add("hook.SessionStart", {}, { session: "live-2" });
  r.add("hook.SubagentStart", { agentId: "g-live", toolUseId: "" }, { session: "live-2" });
  r.worker(3);
  r.wait(KEEP_MS);
  const cut = r.events.length;
  r.add("hook.UserPromptSubmit", {}, { session: "live-1" });
  r.worker(4);

  const state = new StateSnapshot(KEEP_MS);
  for (const e of r.events.slice(0, cut)) state.apply(e);
  const records = state.records();
  const left = records.filter((e) => e.session?.startsWith("old-"));
  assert.deepEqual(left, [], `${left.length} records of ${OLD_SESSIONS} sessions gone three days ago`);
  assert.ok(records.length <= 1 + 3 + 4, `${records.length} records: the workers' record, three workers, two live sessions`);
  const contentBytes = JSON.stringify(state.content(cut)).length;
  assert.ok(contentBytes < 10_000, `a snapshot of ${contentBytes} bytes after ${OLD_SESSIONS} sessions`);

  const nowMs = Date.parse(r.events.at(-1)!.ts) + 60_000;
  const live = ["live-1", "live-2"];
  assert.deepEqual(areas([...records, ...r.events.slice(cut)], live, nowMs), areas(r.events, live, nowMs));
  // (The live sessions do hear news, so the comparison above is not of two nulls.)
  assert.match(areas(r.events, live, nowMs).digests[0] ?? "", /W4 exited 0/);
});

test("a gone session that comes back is treated as new: no old news, then news from its return on", () => {
  const r = recorder();
  oldSessions(r);
  r.wait(3 * DAY);
  r.add("hook.SessionStart", {}, { session: "live" });
  const cut = r.events.length;
  r.add("hook.UserPromptSubmit", {}, { session: "old-1" });
  const back = ["old-1"];
  const state = new StateSnapshot(KEEP_MS);
  for (const e of r.events.slice(0, cut)) state.apply(e);
  const fromSnapshot = [...state.records(), ...r.events.slice(cut)];
  const nowMs = Date.parse(r.events.at(-1)!.ts) + 60_000;

  // The whole history still has its cursor of three days ago: W2, which ended then, would be news.
  assert.match(areas(r.events, back, nowMs).digests[0] ?? "", /W2/);
  // The snapshot knows it from its return only, so W2 is no news to it.
  assert.deepEqual(areas(fromSnapshot, back, nowMs).digests, [null]);
  r.worker(5);
  const later = Date.parse(r.events.at(-1)!.ts) + 60_000;
  const heard = areas([...fromSnapshot, ...r.events.slice(-4)], back, later).digests[0] ?? "";
  assert.match(heard, /W5 exited 0/);
  assert.doesNotMatch(heard, /W2/);
});

test("a session is not forgotten while it has spoken within a day, even if it ended", () => {
  const r = recorder();
  r.add("hook.SessionStart", {}, { session: "quiet" });
  r.add("digest.delivered", { uptoSeq: 1, workers: 1, overview: true }, { session: "quiet" });
  r.add("hook.SessionEnd", {}, { session: "quiet" });
  r.wait(DAY);
  r.worker(1);
  const state = new StateSnapshot(KEEP_MS);
  for (const e of r.events) state.apply(e);
  const kept = state.records().filter((e) => e.session === "quiet").map((e) => e.type);
  assert.deepEqual(kept.sort(), ["digest.delivered", "hook.SessionEnd", "hook.SessionStart"]);
});
