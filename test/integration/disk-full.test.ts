// A full disk under CPWD_HOME: durable requests are refused with IO (never acknowledged), status
// says so, the daemon recovers by itself once space is freed, and `cpwd stop` still ends it.
// Needs a small tmpfs, so root (or a user allowed to mount); skipped with a message otherwise.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cpwd, tempHome, waitGone, withDaemon } from "../helpers/daemon.js";
import { fillDisk, mountTmpfs, unmountTmpfs } from "../helpers/tmpfs.js";

test("a full disk: appends refused with IO, shown in status, recovered once freed, and stop still stops", async (t) => {
  const mount = mountTmpfs("8m");
  if (!mount) return t.skip("cannot mount a tmpfs here (needs root): the disk-full test is skipped");
  const home = join(mount, "home");
  mkdirSync(home, { mode: 0o700 });
  try {
    await withDaemon({ home }, async (d, c) => {
      const before = await c.call("events.append", { type: "ext.before", payload: {} });

      fillDisk(join(mount, "filler"));
      // The log's last page may still have room for a few lines: the first refusal comes soon after.
      const pad = "x".repeat(4096);
      let accepted = 0;
      for (; accepted < 100; accepted++) {
        const ok = await c.call("events.append", { type: "ext.filling", payload: { pad } }).then(
          () => true,
          (err: Error & { code?: string }) => {
            assert.equal(err.code, "IO", err.message);
            return false;
          },
        );
        if (!ok) break;
      }
      assert.ok(accepted < 100, "the disk never filled");
      for (let i = 0; i < 20; i++) {
        await assert.rejects(c.call("events.append", { type: "ext.full", payload: { i } }), (err: Error & { code?: string }) => {
          assert.equal(err.code, "IO", err.message);
          assert.match(err.message, /ENOSPC/);
          return true;
        });
      }
      const status = await c.call("status");
      assert.equal((status.eventLogFailure as { errno: string } | null)?.errno, "ENOSPC");
      const shown = cpwd(home, ["status"]);
      assert.match(shown.stdout, /WARNING.*event log cannot be written.*disk is full/);

      rmSync(join(mount, "filler"));
      const after = await c.call("events.append", { type: "ext.after", payload: {} });
      assert.equal(after.seq, before.seq + accepted + 1, "no seq was used by a refused append");
      assert.equal((await c.call("status")).eventLogFailure, null);
      c.close();

      const lines = readFileSync(d.paths.events, "utf8").split("\n").filter((l) => l !== "");
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `a corrupt line: ${l.slice(0, 80)}`);
      assert.ok(!lines.some((l) => l.includes("ext.full")), "a refused append never reaches the record");

      // `cpwd stop` says stopped only when it is, and the process really ends.
      assert.equal(cpwd(home, ["stop"]).code, 0);
      await waitGone(d.pid, 10_000);
    });
  } finally {
    unmountTmpfs(mount);
  }
});

/** CPU seconds (user + system) a process has used, from /proc; null where there is no /proc. */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

test("a daemon whose operational log cannot be written does not spin, and stop still ends it", async () => {
  const home = tempHome();
  // /dev/full fails every write with ENOSPC: daemon.log behaves as on a full disk, no root needed.
  symlinkSync("/dev/full", join(home, "daemon.log"));
  await withDaemon({ home }, async (d, c) => {
    for (let i = 0; i < 20; i++) await c.call("status");
    c.close();
    const before = cpuSeconds(d.pid);
    await new Promise((r) => setTimeout(r, 1000));
    const after = cpuSeconds(d.pid);
    // Idle means no CPU; a log-error loop used a whole core (1 s of CPU in this second).
    if (before !== null && after !== null) assert.ok(after - before < 0.5, `the daemon used ${after - before} s of CPU in 1 s while idle`);
    assert.equal(cpwd(home, ["stop"]).code, 0);
    await waitGone(d.pid, 10_000);
  });
});
