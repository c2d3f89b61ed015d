// A daemon that launched a new worker before its `worker.queued` was durable (Supervisor.spawn
// launches while the record is synced) and died with the record lacking it: the next daemon finds
// the worker's folder, kills what runs in it, and never hands its id out again.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import { workerDir } from "../../src/platform/paths.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { pidAlive, tempHome, waitFor } from "../helpers/daemon.js";
import { FakeClock, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";
import { nodeFixture } from "../helpers/fixtures.js";
import { killGroups } from "../helpers/kill.js";

/** The pids run.json names in a worker folder, if it has one. */
function runOf(dir: string): { pid: number; wrapperPid: number } | null {
  return existsSync(join(dir, "run.json")) ? (JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as { pid: number; wrapperPid: number }) : null;
}

test("a worker running in a folder the record lacks is killed at start, and its id is never handed out again", async () => {
  const home = tempHome("cpwd-unrecorded-folder-");
  const clock = new FakeClock();
  const log = new MemoryLog(clock);
  const ctx = fakeContext(home, clock, log);
  const argv = nodeFixture("sleep.js", "60000");
  const env = { PATH: process.env.PATH ?? "" };
  const restart = { mode: "never" as const, maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 };
  // The record knows W1 only.
  await log.append([
    { type: "worker.queued", worker: "W1", payload: { spec: { argv, cwd: home, name: null, timeoutMs: null, graceMs: 100, restart, meta: {} } } },
    { type: "worker.cancelled", worker: "W1", payload: { reason: "test" } },
  ]);
  // The first daemon made W2's folder (its record never landed), and launched W3 early, then died.
  mkdirSync(workerDir(ctx.paths, "W2"), { recursive: true });
  const first = new ProcessRunner({ home });
  const orphan = await first.launch({ workerId: "W3", argv, cwd: home, env, dir: workerDir(ctx.paths, "W3"), timeoutMs: null, graceMs: 100, launch: 1 });
  first.close();
  const runner = new ProcessRunner({ home });
  let second: Supervisor | undefined;
  try {
    await waitFor("run.json", () => existsSync(join(workerDir(ctx.paths, "W3"), "run.json")));
    second = await Supervisor.start({ ctx, runner, random: () => 0.5 }, [...log.records]);
    await waitFor("the unrecorded worker to be killed", () => !pidAlive(orphan.pid));
    assert.deepEqual(second.list().map((w) => w.id), ["W1"], "neither folder became a worker");
    const spec: WorkerSpec = { argv, cwd: home, env, timeoutMs: null, meta: {}, restart };
    const view = await second.spawn(spec);
    assert.equal(view.id, "W4", "past every folder there is");
    await waitFor("the new worker to run", () => second!.list().find((w) => w.id === "W4")?.state === "running");
    await settle();
    assert.equal(runOf(workerDir(ctx.paths, "W2")), null, "nothing launched in W2's folder");
    assert.equal(runOf(workerDir(ctx.paths, "W3"))?.pid, orphan.pid, "nor again in W3's");
  } finally {
    await second?.close();
    const started = runOf(workerDir(ctx.paths, "W4"));
    killGroups([orphan, ...(started ? [started] : [])].flatMap((h) => [h.pid, h.wrapperPid]));
    rmSync(home, { recursive: true, force: true });
  }
});
