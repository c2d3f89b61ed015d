// The fallback log stays bounded: it is renamed aside and drained past its size bound, and a
// daemon killed anywhere in that neither loses a record nor ingests one twice.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "pino";
import { openEventLog } from "../../daemon/open-event-log.js";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { drainingFiles } from "../../src/eventlog/ingest.js";
import { resolvePaths } from "../../src/platform/paths.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { REPO, waitFor } from "../helpers/daemon.js";

const INTAKE = join(REPO, "test", "fixtures", "fallback", "intake-daemon.ts");
const ROUNDS = 8;
const PER_ROUND = 400;

function startIntake(home: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ["--import", "tsx", INTAKE, home], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve(proc));
    proc.on("exit", (code) => reject(new Error(`the intake exited (${code}) before it was ready`)));
  });
}

function ended(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", () => r()));
}

/** The record's events; a line being written (or torn by a kill, cut at the next start) is passed over. */
function readRecord(file: string): EventRecord[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as EventRecord];
      } catch {
        return [];
      }
    });
}

test("records written through several rotations and daemon kills are each in the record once, and the fallback files and seen ids end bounded", { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "cpwd-fallback-rotation-"));
  const paths = resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: 0 });
  const written = new Set<string>();
  let proc: ChildProcess | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      proc = await startIntake(home);
      // Records arrive a few at a time while the intake ingests, rotates and drains; the daemon is
      // killed at a different moment each round (before, during or after a drain).
      const killAfter = 50 + ((round * 137) % 400);
      const started = Date.now();
      let killed = false;
      for (let i = 0; i < PER_ROUND; i++) {
        const size = i % 25 === 0 ? 2048 : (i * 37) % 200;
        written.add(appendFallback(paths.fallback, { type: "hook.PostToolUse", session: `r${round}`, payload: { hookEvent: "PostToolUse", i, pad: "x".repeat(size) } }).fid);
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 2));
        if (!killed && Date.now() - started >= killAfter) {
          proc.kill("SIGKILL");
          await ended(proc);
          killed = true;
        }
      }
      if (!killed) {
        proc.kill("SIGKILL");
        await ended(proc);
      }
    }

    // One last run, to the end: the live log ingested whole and every draining file gone.
    proc = await startIntake(home);
    await waitFor(
      "the fallback log to be drained",
      () =>
        drainingFiles(paths.fallback).length === 0 &&
        (existsSync(paths.fallback) ? statSync(paths.fallback).size : 0) < 4096 &&
        readRecord(paths.events).filter((e) => e.source === "fallback").length >= written.size,
      60_000,
    );
    proc.kill("SIGTERM");
    await ended(proc);
    proc = undefined;

    const record = readRecord(paths.events);
    const count = new Map<string, number>();
    for (const e of record) if (e.source === "fallback") count.set(String(e.payload.fallbackId), (count.get(String(e.payload.fallbackId)) ?? 0) + 1);
    const missing = [...written].filter((f) => !count.has(f));
    const twice = [...count.values()].filter((c) => c > 1).length;
    assert.equal(missing.length, 0, `${missing.length} records were never ingested`);
    assert.equal(twice, 0, `${twice} records were ingested more than once`);
    assert.equal(count.size, written.size);

    const drains = record.filter((e) => e.type === "fallback.ingested" && typeof e.payload.drained === "number").length;
    assert.ok(drains >= 3, `the fallback log was drained several times (${drains})`);
    // Bounded: no draining file left, the live log under a few rotations' worth, and a daemon
    // started now knows only the ids of records still on disk.
    const left = readdirSync(home).filter((n) => n.includes(".draining."));
    assert.deepEqual(left, []);
    const liveBytes = existsSync(paths.fallback) ? statSync(paths.fallback).size : 0;
    assert.ok(liveBytes < 64 * 1024, `the live fallback log stays small (${liveBytes} bytes)`);
    const liveIds = existsSync(paths.fallback) ? readFileSync(paths.fallback, "utf8").split("\n").filter((l) => l !== "").length : 0;
    const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
    const reopened = await openEventLog(paths, "test", quiet);
    await reopened.log.close();
    assert.ok(reopened.seenFallback.size <= liveIds, `the seen ids (${reopened.seenFallback.size}) are those of the live log's ${liveIds} records at most, of ${written.size} written`);
  } finally {
    if (proc) {
      proc.kill("SIGKILL");
      await ended(proc);
    }
    rmSync(home, { recursive: true, force: true });
  }
});
