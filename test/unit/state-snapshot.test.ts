// A snapshot's records, replayed through the areas' own folds (the workers, claims, digests,
// Claude Code's native work, Claude progress), rebuild the same state as the whole history — alone,
// and followed by the events after it, as start-up replays them — through its file format too.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClaudeTracker } from "../../daemon/claude/tracker.js";
import { ClaimTable } from "../../daemon/coordination/claims.js";
import { DigestBook, type WorkerSummary } from "../../daemon/coordination/digests.js";
import { NativeWork } from "../../daemon/coordination/native-work.js";
import { StateSnapshot } from "../../daemon/state-snapshot.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { foldRecord } from "../../src/eventlog/record-fold.js";
import { encodeSnapshot, readSnapshot } from "../../src/eventlog/snapshot-file.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { applyWorkerEvent, emptyWorkersState, RemovedWorkers } from "../../src/workers/replay.js";
import { workerSpec as spec } from "../helpers/worker-events.js";

const KEEP_MS = 3_600_000;
const DAY = 24 * 3_600_000;
const dir = mkdtempSync(join(tmpdir(), "cpwd-snapshot-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Two days of work: workers run, fail, are removed; sessions edit, hear digests, run subagents, end. */
function history(): EventRecord[] {
  const out: EventRecord[] = [];
  let ts = Date.parse("2026-11-01T00:00:00Z");
  const add = (type: string, payload: Record<string, unknown>, extra: { worker?: string; session?: string } = {}, stepMs = 60_000) => {
    ts += stepMs;
    out.push({ v: 1, seq: out.length + 1, ts: new Date(ts).toISOString(), type, source: type.startsWith("hook.") ? "hook" : "daemon", ...extra, payload });
  };
  for (let k = 1; k <= 24; k++) {
    const worker = `W${k}`;
    const session = `s-${k % 5}`;
    add("worker.queued", { spec: { ...spec, name: `job-${k}` } }, { worker });
    add("hook.SessionStart", {}, { session, worker: k % 2 ? worker : undefined } as { session: string; worker?: string });
    add("worker.starting", { attempt: 0 }, { worker });
    add("worker.started", { pid: k, wrapperPid: k, startedAtMs: ts }, { worker });
    add("worker.claude", { run: 1, logOffset: 0, costUsd: null, turns: 0 }, { worker });
    add("hook.PreToolUse", { tool: "Write", filePath: `/repo/f${k % 4}.ts` }, { session, worker });
    add("claim.acquired", { path: `/repo/f${k % 4}.ts`, atMs: ts, toolUseId: `t${k}` }, { worker, session });
    add("hook.PreToolUse", { tool: "Agent", toolUseId: `a${k}`, subagentType: "explore", description: `look ${k}` }, { session });
    add("hook.SubagentStart", { agentId: `g${k}`, agentType: "explore", toolUseId: `a${k}` }, { session });
    if (k % 3 === 0) add("hook.SubagentStop", { agentId: `g${k}` }, { session });
    add("worker.claude", { run: 1, costUsd: 0.01 * k, turns: 3, result: `done ${k}` }, { worker });
    add("worker.exited", { state: k % 4 === 0 ? "failed" : "exited", code: k % 4 === 0 ? 1 : 0, signal: null, timedOut: false, runMs: 5, endedAtMs: ts }, { worker });
    if (k % 2 === 0) add("claim.released", { path: `/repo/f${k % 4}.ts`, reason: "worker exited" }, { worker });
    add("digest.delivered", { uptoSeq: out.length, workers: 1, overview: false }, { session });
    if (k % 5 === 0) add("hook.SessionEnd", {}, { session });
    if (k % 3 === 1) add("worker.removed", {}, { worker });
    if (k === 12) ts += 2 * DAY; // what ended before this is long gone from the native view
  }
  return out;
}

/** Every area's state as seen from outside, folded from `events`. */
function areas(events: Iterable<EventRecord>, nowMs: number) {
  const workers = emptyWorkersState();
  const claims = new ClaimTable(Infinity);
  const digests = new DigestBook(KEEP_MS);
  const native = new NativeWork(KEEP_MS);
  const claude = new ClaudeTracker(null as never, () => {});
  let lastSeq = 0;
  for (const e of events) {
    applyWorkerEvent(workers, e);
    claims.apply(e, Date.parse(e.ts) || 0);
    digests.observe(e);
    native.apply(e);
    claude.observe(e);
    lastSeq = Math.max(lastSeq, e.seq);
  }
  const summaries: WorkerSummary[] = [...workers.workers.values()].map((w) => ({ id: w.id, state: w.state, exitCode: w.exitCode, endedAtMs: w.endedAtMs, startedAtMs: w.startedAtMs }));
  const ids = [...workers.workers.keys()];
  return {
    workers: [...workers.workers.values()],
    nextNumber: workers.nextNumber,
    claims: claims.list(nowMs).map((c) => ({ ...c, attempts: [...(c.attempts ?? [])] })),
    digests: [0, 1, 2, 3, 4, 9].map((s) => digests.digest(`s-${s}`, summaries, lastSeq, nowMs, false)?.text ?? null),
    native: native.view(nowMs),
    claude: ids.map((id) => claude.get(id) ?? null),
    spentToday: claude.spentSince(nowMs - DAY),
  };
}

test("a snapshot's records rebuild what the whole history does, alone and with the events after it", () => {
  const events = history();
  const nowMs = Date.parse(events.at(-1)!.ts) + 60_000;
  for (const cut of [10, Math.floor(events.length / 2), events.length - 5, events.length]) {
    const state = new StateSnapshot(KEEP_MS);
    for (const e of events.slice(0, cut)) state.apply(e);
    const file = join(dir, `snapshot-${cut}.json`);
    writeFileSync(file, encodeSnapshot(state.content(cut)));
    const read = readSnapshot(file);
    assert.ok(read, "the snapshot reads back whole");
    assert.equal(read.seq, cut);
    const fromSnapshot = areas([...read.records, ...events.slice(cut)], nowMs);
    assert.deepEqual(fromSnapshot, areas(events, nowMs), `snapshot at seq ${cut}`);
    assert.ok(read.records.length < cut || cut <= 10, `fewer records than events at ${cut}: ${read.records.length}`);
  }
});

test("start-up's two light passes, which skip removed workers' lines, keep what applying every event keeps", async () => {
  const events = history();
  const file = join(dir, "events.jsonl");
  writeFileSync(file, events.map(serializeEvent).join(""));
  const every = new StateSnapshot(KEEP_MS);
  for (const e of events) every.apply(e);
  const light = new StateSnapshot(KEEP_MS);
  const removed = new RemovedWorkers();
  await foldRecord(file, () => {}, { needle: '"type":"worker.removed"', keepLine: (e) => (removed.note(e.type, e.workerNumber, e.seq), false) });
  const fold = await foldRecord(file, (e) => light.apply(e), { keepLine: light.startupKeeps(removed) });
  light.caughtUp(fold.lastSeq, fold.lastTs);
  // (Through JSON: a record read from the file has no `worker: undefined` key.)
  const asRead = (c: unknown) => JSON.parse(JSON.stringify(c)) as unknown;
  assert.deepEqual(asRead(light.content(events.length)), asRead(every.content(events.length)));
});

test("what a snapshot keeps is bounded by what is live, not by history", () => {
  const state = new StateSnapshot(KEEP_MS);
  let seq = 0;
  let ts = Date.parse("2026-11-01T00:00:00Z");
  const add = (type: string, payload: Record<string, unknown>, extra: Record<string, string> = {}) =>
    state.apply({ v: 1, seq: ++seq, ts: new Date((ts += 1_000)).toISOString(), type, source: type.startsWith("hook.") ? "hook" : "daemon", ...extra, payload });
  for (let k = 1; k <= 2_000; k++) {
    const worker = `W${k}`;
    add("worker.queued", { spec }, { worker });
    add("worker.starting", { attempt: 0 }, { worker });
    add("worker.started", { pid: k, wrapperPid: k, startedAtMs: ts }, { worker });
    add("claim.acquired", { path: `/f${k}`, atMs: ts }, { worker });
    add("worker.exited", { state: "exited", code: 0, signal: null, timedOut: false, runMs: 1, endedAtMs: ts }, { worker });
    add("claim.released", { path: `/f${k}` }, { worker });
    if (k < 1_990) add("worker.removed", {}, { worker });
  }
  // One long session that runs a subagent a minute for a day.
  for (let k = 1; k <= 1_440; k++) {
    const session = { session: "long" };
    add("hook.PreToolUse", { tool: "Agent", toolUseId: `a${k}`, description: `task ${k}` }, session);
    add("hook.SubagentStart", { agentId: `g${k}`, toolUseId: `a${k}` }, session);
    add("hook.SubagentStop", { agentId: `g${k}` }, session);
    ts += 57_000;
  }
  const records = state.records();
  assert.equal((records[0]!.payload.workers as unknown[]).length, 11);
  const native = records.filter((e) => e.session === "long").length;
  assert.ok(native <= 3 * 62 + 3, `${native} records for the subagents of the last hour`);
  assert.ok(records.length <= 1 + 11 + native, `${records.length} records for 11 listed workers and a session`);
});
