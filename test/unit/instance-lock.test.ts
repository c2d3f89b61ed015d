// The lock folder's fs as proper-lockfile sees it: our owner record is created only in a folder
// that has none (a starter that stalled after its mkdir backs off and removes nothing), a folder
// is removed only while its record names us, and daemon.pid is judged by its process's start time.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { acquireInstance, legacyDaemonAlive, lockFs } from "../../daemon/instance.js";
import { instanceLockDir, readLockOwner } from "../../src/records/instance-lock.js";
import { processStartTime } from "../../src/platform/proc.js";
import { pathsFor, tempHome } from "../helpers/daemon.js";

const OTHER = JSON.stringify({ pid: 1, startTime: "12345" });

function mkdirVia(fs: ReturnType<typeof lockFs>, path: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => (fs.mkdir as unknown as (p: string, cb: (e: NodeJS.ErrnoException | null) => void) => void)(path, resolve));
}

function rmdirVia(fs: ReturnType<typeof lockFs>, path: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => (fs.rmdir as unknown as (p: string, cb: (e: NodeJS.ErrnoException | null) => void) => void)(path, resolve));
}

describe("the lock folder's fs", () => {
  let dir: string;
  let lockDir: string;
  before(() => {
    dir = tempHome("cpwd-lock-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = (name: string) => (lockDir = join(dir, `${name}.lock`));

  test("making the folder records us as its owner", async () => {
    fresh("mine");
    assert.equal(await mkdirVia(lockFs(lockDir), lockDir), null);
    assert.deepEqual(readLockOwner(lockDir), { pid: process.pid, startTime: processStartTime(process.pid) });
  });

  test("a folder that got another owner while we stalled after mkdir is left as it is, and we report a conflict", async () => {
    fresh("taken");
    const fs = lockFs(lockDir, {
      // Another starter removed our ownerless folder and made its own, owner and all.
      afterMkdir: () => {
        rmSync(lockDir, { recursive: true });
        mkdirSync(lockDir);
        writeFileSync(join(lockDir, "owner.json"), OTHER);
      },
    });
    const err = await mkdirVia(fs, lockDir);
    assert.equal(err?.code, "ELOCKED");
    assert.equal(readFileSync(join(lockDir, "owner.json"), "utf8"), OTHER, "the other owner's record is untouched");
  });

  test("a folder removed while we stalled after mkdir is not made again, and we report a conflict", async () => {
    fresh("gone");
    const err = await mkdirVia(lockFs(lockDir, { afterMkdir: () => rmSync(lockDir, { recursive: true }) }), lockDir);
    assert.equal(err?.code, "ELOCKED");
    assert.equal(existsSync(lockDir), false);
  });

  test("releasing removes our own folder, and leaves one whose record names someone else", async () => {
    fresh("release");
    const fs = lockFs(lockDir);
    assert.equal(await mkdirVia(fs, lockDir), null);
    writeFileSync(join(lockDir, "owner.json"), OTHER); // someone else's lock now
    assert.equal(await rmdirVia(fs, lockDir), null);
    assert.equal(readFileSync(join(lockDir, "owner.json"), "utf8"), OTHER, "not ours: left alone");
    (fs.rmdirSync as (p: string) => void)(lockDir);
    assert.equal(existsSync(lockDir), true, "not ours: left alone on exit either");

    rmSync(lockDir, { recursive: true });
    assert.equal(await mkdirVia(fs, lockDir), null);
    assert.equal(await rmdirVia(fs, lockDir), null);
    assert.equal(existsSync(lockDir), false, "ours: removed");
  });
});

describe("the owner record", () => {
  let dir: string;
  before(() => {
    dir = tempHome("cpwd-owner-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ownerOf = (text: string) => {
    writeFileSync(join(dir, "owner.json"), text);
    return readLockOwner(dir);
  };

  test("the lock folder is named as proper-lockfile names it, beside the event log", () => {
    assert.equal(instanceLockDir("/h/events.jsonl"), "/h/events.jsonl.lock");
  });

  test("a record without a start time reads as one whose start time is unknown", () => {
    assert.deepEqual(ownerOf(JSON.stringify({ pid: 42 })), { pid: 42, startTime: null });
  });

  test("a record that is half-written or not an owner record reads as no owner", () => {
    for (const text of ["", '{"pid":4', "null", "[42]", '{"pid":"42"}', '{"pid":0}', '{"pid":4.5}', '{"pid":42,"startTime":7}']) {
      assert.equal(ownerOf(text), null, text);
    }
  });
});

describe("the lock folder's modes", () => {
  const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);
  let umaskBefore: number;
  before(() => {
    umaskBefore = process.umask(0o022);
  });
  after(() => process.umask(umaskBefore));

  test("the lock folder is private to its user (0700) and its owner record 0600, under a umask of 022", async () => {
    const dir = tempHome("cpwd-lock-mode-");
    try {
      const lockDir = join(dir, "events.jsonl.lock");
      assert.equal(await mkdirVia(lockFs(lockDir), lockDir), null);
      assert.equal(modeOf(lockDir), "700");
      assert.equal(modeOf(join(lockDir, "owner.json")), "600");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a daemon's lock, taken through proper-lockfile, is 0700 with a 0600 owner record", async () => {
    const paths = pathsFor(tempHome("cpwd-lock-mode-"));
    const lock = await acquireInstance(paths, () => {});
    try {
      assert.equal(modeOf(`${paths.events}.lock`), "700");
      assert.equal(modeOf(join(`${paths.events}.lock`, "owner.json")), "600");
      assert.equal(modeOf(paths.events), "600");
      assert.equal(modeOf(paths.pidFile), "600");
    } finally {
      await lock.release();
      rmSync(paths.home, { recursive: true, force: true }); // the socket's folder too: a short home keeps it inside
    }
  });
});

describe("judging an old-format lock by daemon.pid", () => {
  const record = (pid: number, startedAt: Date) => ({ pid, startedAt: startedAt.toISOString(), socket: "/nowhere" });

  test("a live pid whose process started before the record was written can be the daemon", () => {
    assert.equal(legacyDaemonAlive(record(process.pid, new Date())), true);
  });

  test("a live pid whose process started well after the record was written is someone else", { skip: process.platform !== "linux" }, () => {
    assert.equal(legacyDaemonAlive(record(process.pid, new Date(Date.now() - 3_600_000))), false);
  });

  test("a dead pid is not the daemon", () => {
    assert.equal(legacyDaemonAlive(record(2 ** 22 + 12345, new Date())), false);
  });
});
