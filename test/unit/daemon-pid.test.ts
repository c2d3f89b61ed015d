// daemon.pid: written whole and private, read back only when it is a pid record, removed only by
// the daemon it names.
import assert from "node:assert/strict";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { readPidFile, removePidFile, writePidFile } from "../../src/records/daemon-pid.js";
import { tempHome } from "../helpers/daemon.js";

const dir = tempHome("cpwd-pid-");
const file = join(dir, "daemon.pid");
after(() => rmSync(dir, { recursive: true, force: true }));
const record = { pid: 4242, startedAt: "2026-11-24T23:44:56.834Z", socket: "/h/run/cpwd.sock" };

test("the pid file is one JSON line, 0600, and reads back as written", () => {
  writePidFile(file, record);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readPidFile(file), record);
});

test("a pid file that is absent, half-written or not a pid record reads as none", () => {
  rmSync(file, { force: true });
  assert.equal(readPidFile(file), null);
  for (const text of ['{"pid":42', "null", JSON.stringify({ ...record, pid: "42" }), JSON.stringify({ pid: 42 }), JSON.stringify({ ...record, socket: 1 })]) {
    writeFileSync(file, text);
    assert.equal(readPidFile(file), null, text);
  }
});

test("only the daemon the pid file names removes it", () => {
  writePidFile(file, record);
  removePidFile(file, record.pid + 1);
  assert.equal(existsSync(file), true, "another daemon's file stays");
  removePidFile(file, record.pid);
  assert.equal(existsSync(file), false);
});
