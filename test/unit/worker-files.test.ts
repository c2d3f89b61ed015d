// A worker folder's files: plain names the wrapper's shell can use, logs made private before a
// launch, a previous run's records cleared, and run.json, exit.json and spec.json read back only
// when they are what the wrapper or the supervisor wrote.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WRAPPER_SCRIPT } from "../../daemon/runner/wrapper-script.js";
import {
  clearRunRecords,
  prepareWorkerLogs,
  readExitRecord,
  readRunRecord,
  readWorkerSpecEnv,
  WORKER_FILES,
  workerLogFile,
  writeWorkerSpec,
} from "../../src/records/worker-files.js";
import { tempHome } from "../helpers/daemon.js";

let dir: string;
before(() => {
  dir = tempHome("cpwd-worker-files-");
});
after(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, text: string, mtime = new Date()): void {
  writeFileSync(join(dir, name), text);
  utimesSync(join(dir, name), mtime, mtime);
}

test("the names are plain words, and the wrapper writes the records under them", () => {
  for (const name of Object.values(WORKER_FILES)) assert.match(name, /^[a-z][a-z.-]*$/);
  for (const name of [WORKER_FILES.run, WORKER_FILES.exit, WORKER_FILES.timedOut]) assert.ok(WRAPPER_SCRIPT.includes(`"$dir/${name}"`), name);
  assert.ok(WRAPPER_SCRIPT.includes(`"$dir/${WORKER_FILES.logs}/${WORKER_FILES.stdout}"`));
});

test("run.json reads back with its mtime; a timer pid may be absent (an older wrapper) or null", () => {
  const written = new Date(Date.now() - 60_000);
  put(WORKER_FILES.run, '{"pid":10,"wrapperPid":9,"timerPid":11,"launch":3}\n', written);
  assert.deepEqual(readRunRecord(dir), { pid: 10, wrapperPid: 9, timerPid: 11, launch: 3, writtenAtMs: written.getTime() });
  put(WORKER_FILES.run, '{"pid":10,"wrapperPid":9,"timerPid":null}\n', written);
  assert.equal(readRunRecord(dir)?.timerPid, null);
  put(WORKER_FILES.run, '{"pid":10,"wrapperPid":9}\n', written);
  assert.equal(readRunRecord(dir)?.timerPid, null);
});

test("a run.json from a wrapper older than the launch number reads with launch null", () => {
  put(WORKER_FILES.run, '{"pid":10,"wrapperPid":9,"timerPid":null}\n');
  assert.equal(readRunRecord(dir)?.launch, null);
});

test("a run.json that is half-written or not a run record reads as none", () => {
  for (const text of ["", '{"pid":10,"wrap', '{"pid":10}', '{"pid":"10","wrapperPid":9}', '{"pid":10,"wrapperPid":9,"timerPid":"x"}', '{"pid":10,"wrapperPid":9,"launch":0}', '{"pid":10,"wrapperPid":9,"launch":"2"}', "[]"]) {
    put(WORKER_FILES.run, text);
    assert.equal(readRunRecord(dir), null, text);
  }
});

test("exit.json reads back with its mtime (ms) as the end, an exit code or a signal", () => {
  const ended = new Date(Date.now() - 5_000);
  put(WORKER_FILES.exit, '{"code":3,"signal":null,"timedOut":false,"endedAt":1}\n', ended);
  assert.deepEqual(readExitRecord(dir), { code: 3, signal: null, timedOut: false, endedAtMs: ended.getTime() });
  put(WORKER_FILES.exit, '{"code":null,"signal":"SIGTERM","timedOut":true,"endedAt":1}\n', ended);
  assert.deepEqual(readExitRecord(dir), { code: null, signal: "SIGTERM", timedOut: true, endedAtMs: ended.getTime() });
});

test("an exit.json that is absent, half-written or not an exit record reads as none", () => {
  rmSync(join(dir, WORKER_FILES.exit), { force: true });
  assert.equal(readExitRecord(dir), null);
  for (const text of ['{"code":3,"sig', '{"code":"3","signal":null,"timedOut":false}', '{"code":3,"signal":9,"timedOut":false}', '{"code":3,"signal":null}', "7"]) {
    put(WORKER_FILES.exit, text);
    assert.equal(readExitRecord(dir), null, text);
  }
});

test("clearing a run's records leaves the spec and the logs", () => {
  prepareWorkerLogs(dir);
  writeWorkerSpec(dir, { id: "W1", env: {} });
  for (const name of [WORKER_FILES.run, WORKER_FILES.exit, WORKER_FILES.timedOut]) put(name, "{}");
  clearRunRecords(dir);
  for (const name of [WORKER_FILES.run, WORKER_FILES.exit, WORKER_FILES.timedOut]) assert.equal(existsSync(join(dir, name)), false, name);
  assert.ok(existsSync(join(dir, WORKER_FILES.spec)) && existsSync(workerLogFile(dir, "stdout")));
});

test("the logs are made 0600 before a launch, and an older 0644 log is kept but made private", () => {
  const w = join(dir, "W2");
  mkdirSync(join(w, WORKER_FILES.logs), { recursive: true });
  writeFileSync(workerLogFile(w, "stdout"), "earlier\n", { mode: 0o644 });
  prepareWorkerLogs(w);
  for (const stream of ["stdout", "stderr"] as const) assert.equal(statSync(workerLogFile(w, stream)).mode & 0o777, 0o600, stream);
  assert.equal(readFileSync(workerLogFile(w, "stdout"), "utf8"), "earlier\n");
});

test("spec.json is private and gives its environment back; a malformed one gives none", () => {
  writeWorkerSpec(dir, { id: "W1", env: { TOKEN: "s3cret" } });
  assert.equal(statSync(join(dir, WORKER_FILES.spec)).mode & 0o777, 0o600);
  assert.deepEqual(readWorkerSpecEnv(dir), { TOKEN: "s3cret" });
  for (const text of ["", '{"id":"W1"}', '{"env":{"A":1}}', '{"env":["A"]}']) {
    put(WORKER_FILES.spec, text);
    assert.deepEqual(readWorkerSpecEnv(dir), {}, text);
  }
});
