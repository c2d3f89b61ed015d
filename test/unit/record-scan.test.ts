// The light scan of the record: envelopes read without JSON.parse, the needle scan that looks only
// at the lines it wants, and `cpwd replay`'s two passes folding the same table as a full replay.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { foldRecord } from "../../src/eventlog/record-fold.js";
import { parseEventLine, serializeEvent } from "../../src/eventlog/record.js";
import { EnvelopePeeker } from "../../src/eventlog/envelope.js";
import { NeedleScanner } from "../../src/eventlog/needle-scan.js";
import { scanLog } from "../../src/eventlog/scan.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { applyWorkerEvent, emptyWorkersState, RemovedWorkers, replayKeeps, replayWorkers } from "../../src/workers/replay.js";
import { workerEvent as ev, workerSpec as spec } from "../helpers/worker-events.js";

const dir = mkdtempSync(join(tmpdir(), "cpwd-scan-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A history with removed workers, a refused transition, a worker still listed and other lines. */
function history(): EventRecord[] {
  const events: EventRecord[] = [];
  for (let k = 1; k <= 30; k++) {
    const w = `W${k}`;
    events.push(ev("worker.queued", { spec }, w), ev("hook.PreToolUse", { tool: "Write" }, undefined), ev("worker.starting", { attempt: 0 }, w));
    events.push(ev("worker.started", { pid: k, wrapperPid: k, startedAtMs: 1 }, w), ev("worker.exited", { state: "exited", code: 0, signal: null, timedOut: false, runMs: 1, endedAtMs: 2 }, w));
    if (k % 3 !== 0) events.push(ev("worker.removed", {}, w));
  }
  events.push(ev("worker.started", { pid: 1, wrapperPid: 1, startedAtMs: 0 }, "W3")); // exited → started: refused
  return events.map((e, i) => ({ ...e, seq: i + 1 }));
}

async function streamedReplay(file: string, at?: number) {
  const state = emptyWorkersState();
  const removed = new RemovedWorkers();
  const upToSeq = at ?? Infinity;
  await foldRecord(file, () => {}, { upToSeq, needle: '"type":"worker.removed"', keepLine: (e) => (removed.note(e.type, e.workerNumber, e.seq), false) });
  const fold = await foldRecord(file, (e) => applyWorkerEvent(state, e), { upToSeq, needle: '"type":"worker.', keepLine: replayKeeps(state, removed) });
  return { workers: [...state.workers.values()], nextNumber: state.nextNumber, lastSeq: fold.lastSeq, lastTs: fold.lastTs };
}

describe("light scan", () => {
  test("an envelope is read as JSON.parse reads it, and a line in another form is left to the parser", () => {
    const e = ev("worker.exited", { state: "exited" }, "W12");
    const line = Buffer.from(serializeEvent({ ...e, seq: 4711 }).trimEnd());
    const env = new EnvelopePeeker().peek(line, 0, line.length);
    assert.deepEqual({ ...env }, { seq: 4711, type: "worker.exited", source: e.source, workerNumber: 12 });
    const reordered = Buffer.from(JSON.stringify({ seq: 4711, v: 1, ts: e.ts, type: e.type, source: e.source, payload: {} }));
    assert.equal(new EnvelopePeeker().peek(reordered, 0, reordered.length), null);
    const escaped = Buffer.from(serializeEvent({ ...e, type: 'ext."odd"', seq: 1 }).trimEnd());
    assert.equal(new EnvelopePeeker().peek(escaped, 0, escaped.length), null);
  });

  test("cpwd replay's two light passes fold the same table as a full replay, at any seq", async () => {
    const events = history();
    const file = join(dir, "events.jsonl");
    // One line in a hand-written key order: parsed in full, never missed.
    const lines = events.map((e, i) => (i === 7 ? `${JSON.stringify({ type: e.type, v: 1, seq: e.seq, ts: e.ts, source: e.source, worker: e.worker, payload: e.payload })}\n` : serializeEvent(e)));
    writeFileSync(file, lines.join(""));
    for (const at of [1, 5, 8, 40, 100, events.length]) {
      const full = replayWorkers(events, at);
      const streamed = await streamedReplay(file, at);
      assert.deepEqual(streamed.workers, [...full.workers.values()], `workers at ${at}`);
      assert.equal(streamed.nextNumber, full.nextNumber, `next number at ${at}`);
      assert.equal(streamed.lastSeq, Math.min(at, events.length));
      assert.equal(streamed.lastTs, events[Math.min(at, events.length) - 1]!.ts);
    }
  });

  test("the needle scan hands on only the lines holding it, across chunk boundaries", () => {
    const events = history();
    const text = Buffer.from(events.map(serializeEvent).join(""));
    for (const size of [1, 7, 64, 1000]) {
      const got: number[] = [];
      const s = new NeedleScanner('"type":"worker.removed"', (e) => got.push(e.seq));
      for (let i = 0; i < text.length; i += size) s.push(text.subarray(i, i + size));
      assert.deepEqual(got, events.filter((e) => e.type === "worker.removed").map((e) => e.seq), `chunks of ${size}`);
      assert.equal(s.lastSeq, events.length);
    }
  });

  test("a scan that keeps some lines counts every line and parses only those", () => {
    const events = history();
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, events.map(serializeEvent).join("") + '{"v":1,"seq":9999,"ts":"x","type":"torn');
    const kept: string[] = [];
    const r = scanLog(file, (e) => kept.push(e.type), { keepLine: (e) => e.type.startsWith("hook.") });
    assert.equal(r.eventCount, events.length);
    assert.equal(r.lastSeq, events.length);
    assert.deepEqual(kept, events.filter((e) => e.type.startsWith("hook.")).map((e) => e.type));
    assert.ok(r.sizeBytes > r.goodEndBytes, "the torn tail is past the good end");
    assert.equal(parseEventLine("{}"), null);
  });
});
