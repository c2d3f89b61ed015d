// A daemon killed while it launches a worker (found by the kill -9 chaos scenario): the wrapper
// must not die with it, and a worker whose start times were never recorded is still cpwd's to kill.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findSetsid, ProcessRunner } from "../../daemon/runner/process-runner.js";
import { installWrapper } from "../../daemon/runner/wrapper-script.js";
import { isAlive } from "../../src/platform/proc.js";
import { prepareWorkerLogs, readRunRecord } from "../../src/records/worker-files.js";
import { waitFor } from "../helpers/daemon.js";
import { killGroups } from "../helpers/kill.js";

const home = mkdtempSync(join(tmpdir(), "cpwd-wrapper-death-"));
/** Process groups to SIGKILL at the end, whatever happened. */
const groups: number[] = [];
after(() => {
  killGroups(groups);
  rmSync(home, { recursive: true, force: true });
});

/**
 * Starts the wrapper as the runner does (its own session, its stdout a pipe to us) and closes our
 * end of the pipe at once, as a daemon killed before it read the worker's pid does.
 */
function launchAndDie(id: string, argv: string[]): string {
  const dir = join(home, "workers", id);
  mkdirSync(dir, { recursive: true });
  prepareWorkerLogs(dir);
  const wrapper = spawn("/bin/sh", [installWrapper(home), dir, "0", "1000", "chld", "-", "-", "1", findSetsid(), "--", ...argv], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  wrapper.stdout!.destroy();
  wrapper.unref();
  groups.push(wrapper.pid!);
  return dir;
}

function runJson(dir: string): { pid: number; wrapperPid: number } {
  return JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as { pid: number; wrapperPid: number };
}

test("a wrapper whose daemon died before reading the worker's pid lives on and records the worker's end", async () => {
  const dir = launchAndDie("W1", ["/bin/sh", "-c", "sleep 0.3; exit 3"]);
  await waitFor("run.json", () => readRunRecord(dir) !== null);
  groups.push(runJson(dir).pid, runJson(dir).wrapperPid);
  await waitFor("exit.json: the wrapper outlived its daemon's pipe", () => existsSync(join(dir, "exit.json")), 5_000);
  assert.equal(JSON.parse(readFileSync(join(dir, "exit.json"), "utf8")).code, 3);
});

test("a worker found without its wrapper and without recorded start times is killed at adoption if it started before run.json", async () => {
  const dir = launchAndDie("W2", ["/bin/sh", "-c", "sleep 30"]);
  await waitFor("run.json", () => readRunRecord(dir) !== null);
  const run = runJson(dir);
  groups.push(run.pid, run.wrapperPid);
  // The wrapper is killed outright: the worker, in a session of its own, runs on untracked.
  process.kill(run.wrapperPid, "SIGKILL");
  await waitFor("the wrapper to die", () => !isAlive(run.wrapperPid));
  assert.ok(isAlive(run.pid));
  // The daemon died before `worker.started`: nothing known but run.json.
  const runner = new ProcessRunner({ home });
  try {
    assert.equal((await runner.adopt("W2", dir, null)).kind, "lost");
    await waitFor("the orphaned worker to be killed", () => !isAlive(run.pid), 5_000);
  } finally {
    runner.close();
  }
});
