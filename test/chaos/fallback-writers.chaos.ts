// Chaos 2: fallback writers.
//
// Load: 32 processes at once, each appending 500 records to events.fallback.jsonl with the shim's
// own fallback writer while the daemon is down (16,000 records; one in 25 of 4–8 KiB, over
// PIPE_BUF, so interleaved writes would tear them).
// Faults: the daemon is started and `kill -9`ed mid-ingest again and again: as soon as its
// ingest batch lands (and then the log is torn part-way through that batch, as a kill during the
// write leaves it: twice), and as late as can be seen before the offset file moves; after a
// start that gets through, the offset file is deleted by hand and the daemon started again.
// Must hold: every line of the fallback log parses (none torn or interleaved); after the last
// start, every one of the 16,000 records is in events.jsonl exactly once, with its payload whole;
// every line of events.jsonl parses and seq has no gap or repeat.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readOffset } from "../../src/eventlog/ingest.js";
import { CLI, pathsFor, REPO, startDaemon, tempHome, testEnv, type TestDaemon } from "../helpers/daemon.js";
import { assertSeqGapless, figure, killHomeProcesses, n, readRecord } from "./chaos-helpers.js";

const WRITERS = 32;
const PER_WRITER = 500;
const TOTAL = WRITERS * PER_WRITER;
const WRITER_SCRIPT = join(REPO, "test", "chaos", "fixtures", "fallback-writer.mjs");

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function exitOf(p: ChildProcess): Promise<number | null> {
  return p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once("exit", (code) => r(code)));
}

/**
 * Starts the daemon and SIGKILLs it once its events.jsonl has grown `fraction` of `batchBytes`
 * past its size at the start (its own start-up lines included); for fraction 1, once it has
 * grown that far and stopped growing (the batch written; fdatasync or the offset under way).
 * Polls in a loop of event-loop turns: the kill follows the observation within microseconds.
 * Returns what the kill left.
 */
async function startAndKillMidIngest(home: string, fraction: number, batchBytes: number): Promise<string> {
  const paths = pathsFor(home);
  const base = sizeOf(paths.events);
  const offsetBefore = readOffset(`${paths.fallback}.offset`);
  const proc = spawn(process.execPath, [CLI, "daemon"], { env: testEnv(home, { CPWD_LOG_LEVEL: "warn" }), stdio: "ignore" });
  const exited = exitOf(proc);
  const target = base + Math.max(1, Math.floor(fraction * batchBytes));
  const deadline = Date.now() + 30_000;
  let last = -1;
  while (Date.now() < deadline && proc.exitCode === null) {
    const size = sizeOf(paths.events);
    // The offset moves once the batch is durable: past that, the kill is no longer mid-ingest.
    if ((size >= target && (fraction < 1 || size === last)) || readOffset(`${paths.fallback}.offset`) !== offsetBefore) break;
    last = size;
    // Until the log starts to grow, let the daemon have the CPU (the machine may have two cores);
    // then a turn of the event loop only, which also notices a daemon that exited by itself.
    await new Promise((r) => (size < base + 64 ? setTimeout(r, 1) : setImmediate(r)));
  }
  assert.equal(proc.exitCode, null, "the daemon was running when it was killed");
  proc.kill("SIGKILL");
  await exited;
  if (readOffset(`${paths.fallback}.offset`) !== offsetBefore) return "after the ingest";
  return readFileSync(paths.events, "utf8").endsWith("\n") ? "batch durable, offset not moved" : "torn batch";
}

/**
 * What a kill in the middle of the batch's write leaves, made on purpose (the write is one
 * syscall, too quick to hit from outside): the log cut at a byte `fraction` of the way through
 * what the last start ingested, mid-line.
 */
function tearLastBatch(eventsFile: string, fraction: number): void {
  const text = readFileSync(eventsFile);
  const lines = text.toString("utf8").split("\n");
  // The last start's batch begins after its daemon.started line.
  let startedAt = 0;
  let bytes = 0;
  for (const l of lines) {
    bytes += Buffer.byteLength(l) + 1;
    if (l.includes('"type":"daemon.started"')) startedAt = bytes;
  }
  let cut = startedAt + Math.floor(fraction * (text.length - startedAt));
  while (cut < text.length && text[cut - 1] === 0x0a) cut++; // mid-line, never just after a newline
  truncateSync(eventsFile, cut);
}

test("32 fallback writers × 500 with the daemon down, and the daemon killed mid-ingest: all 16,000 taken in once", { timeout: 150_000 }, async () => {
  const home = tempHome("cpwd-chaos-fallback-");
  const paths = pathsFor(home);
  let d: TestDaemon | undefined;
  try {
    // The writers, all at once.
    const writers = Array.from({ length: WRITERS }, (_, w) => spawn(process.execPath, [WRITER_SCRIPT, REPO, paths.fallback, String(w), String(PER_WRITER)], { stdio: "inherit" }));
    const codes = await Promise.all(writers.map(exitOf));
    assert.deepEqual(codes, Array(WRITERS).fill(0), "every writer finished");
    const lines = readFileSync(paths.fallback, "utf8").split("\n");
    assert.equal(lines.pop(), "", "the fallback log ends with a whole line");
    assert.equal(lines.length, TOTAL);
    const written = new Map<string, { writer: number; i: number; size: number }>();
    for (const l of lines) {
      let rec: { fid: string; payload: { writer: number; i: number; size: number; pad: string } };
      try {
        rec = JSON.parse(l);
      } catch {
        assert.fail(`a torn or interleaved fallback line: ${l.slice(0, 100)}…`);
      }
      assert.equal(rec.payload.pad.length, rec.payload.size, "each record is whole");
      written.set(rec.fid, rec.payload);
    }
    assert.equal(written.size, TOTAL, "every record has a fid of its own");

    // Starts killed at different points of the ingest; each next start recovers what it left.
    const batchBytes = sizeOf(paths.fallback);
    // Killed as soon as the batch lands, the log then torn part-way through it (twice); then
    // killed as late as can be seen, until a start gets through.
    const kills: string[] = [];
    for (const [fraction, tear] of [[0.02, 0.5], [0.02, 0.1], [1], [1], [1]] as Array<[number, number?]>) {
      if (readOffset(`${paths.fallback}.offset`) === batchBytes) break;
      const left = await startAndKillMidIngest(home, fraction, batchBytes);
      if (tear !== undefined && left === "batch durable, offset not moved") {
        tearLastBatch(paths.events, tear);
        kills.push(`batch torn at ${tear * 100}%`);
      } else kills.push(left);
    }

    // One start to the end; then the offset file lost (deleted) and one more start.
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    await d.stop();
    rmSync(`${paths.fallback}.offset`, { force: true });
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    await d.stop();
    d = undefined;

    const record = readRecord(paths.events);
    assertSeqGapless(record);
    const seen = new Map<string, number>();
    for (const e of record) {
      if (e.source !== "fallback") continue;
      const fid = String(e.payload.fallbackId);
      seen.set(fid, (seen.get(fid) ?? 0) + 1);
      const w = written.get(fid);
      assert.ok(w, `an ingested record was written by a writer: ${fid}`);
      assert.equal(e.type, "hook.PostToolUse");
      assert.deepEqual([e.payload.writer, e.payload.i, (e.payload.pad as string).length], [w.writer, w.i, w.size], `${fid} arrived whole`);
    }
    const missing = [...written.keys()].filter((f) => !seen.has(f));
    const twice = [...seen.values()].filter((c) => c > 1).length;
    assert.equal(missing.length, 0, `${missing.length} records were never ingested`);
    assert.equal(twice, 0, `${twice} records were ingested more than once`);
    assert.ok(existsSync(`${paths.fallback}.offset`));

    const tally = new Map<string, number>();
    for (const k of kills) tally.set(k, (tally.get(k) ?? 0) + 1);
    const recovered = record.filter((e) => e.type === "log.recovered").length;
    figure(
      "fallback",
      `${WRITERS} writers × ${PER_WRITER} = ${n(TOTAL)} records (${(batchBytes / 1024 / 1024).toFixed(1)} MiB) while down, 0 torn; ${kills.length} starts killed mid-ingest ` +
        `(${[...tally].map(([k, c]) => `${c} ${k}`).join(", ")}), ${recovered} torn tails cut, offset file deleted once; all ${n(TOTAL)} present exactly once`,
    );
  } finally {
    if (d) await d.kill9();
    killHomeProcesses(home);
    rmSync(home, { recursive: true, force: true });
  }
});
