// readWorkerPid: the wrapper's first stdout line is the worker's pid, even when Node reports the
// wrapper's exit before that line is read (a wrapper whose worker and mux end at once tells the pid
// and exits within a millisecond: seen in CI as "the wrapper exited (0) before starting the worker").
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { readWorkerPid } from "../../daemon/runner/warm-wrappers.js";

/** A stand-in for a spawned wrapper: its events and its stdout, driven by the test. */
function fakeWrapper(): { child: ChildProcess; stdout: PassThrough } {
  const stdout = new PassThrough();
  const child = Object.assign(new EventEmitter(), { stdout }) as unknown as ChildProcess;
  return { child, stdout };
}

test("the pid told before an exit that Node reports first is still read", async () => {
  const { child, stdout } = fakeWrapper();
  const pid = readWorkerPid(child);
  child.emit("exit", 0, null);
  stdout.end("4242\n");
  assert.equal(await pid, 4242);
});

test("a wrapper that exits without telling a pid is refused once its stdout has ended", async () => {
  const { child, stdout } = fakeWrapper();
  const pid = readWorkerPid(child);
  child.emit("exit", 1, null);
  stdout.end("");
  await assert.rejects(pid, /the wrapper exited \(1\) before starting the worker/);
});

test("an exit after stdout has ended is judged at once", async () => {
  const { child, stdout } = fakeWrapper();
  const pid = readWorkerPid(child);
  stdout.end("");
  await new Promise((r) => setImmediate(r));
  child.emit("exit", 2, null);
  await assert.rejects(pid, /exited \(2\)/);
});
