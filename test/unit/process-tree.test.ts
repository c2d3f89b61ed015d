// A worker's process tree read from a made-up /proc: who belongs to it (descendants, its session
// and group, not its wrapper or a stranger), its CPU ticks and RSS, CPU % between two readings,
// and the daemon's sampler reading /proc once per call however many workers ask.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cpuPercent, parseProcStat, readProcSnapshot, snapshotOf, treeUsage, type ProcSnapshot } from "../../src/platform/process-tree.js";
import { WorkerUsage } from "../../daemon/supervisor/worker-usage.js";
import type { WorkerView } from "../../src/protocol/workers.js";

/** A /proc/<pid>/stat line: utime, stime, cutime, cstime in ticks, rss in pages. */
function stat(p: { pid: number; comm?: string; ppid: number; pgrp?: number; session?: number; utime?: number; stime?: number; cutime?: number; rss?: number; state?: string }): string {
  const f = [p.state ?? "S", p.ppid, p.pgrp ?? p.pid, p.session ?? p.pid, 0, -1, 4194304, 0, 0, 0, 0, p.utime ?? 0, p.stime ?? 0, p.cutime ?? 0, 0, 20, 0, 1, 0, 5000, 1000000, p.rss ?? 0];
  return `${p.pid} (${p.comm ?? "sh"}) ${f.join(" ")} 0 0 0`;
}

/**
 * The wrapper 100 (its own session) runs the worker 200 (a session of its own) with children 201
 * and 202, and 202 a child 203; 300 left the tree (reparented to 1) but stays in 200's session;
 * 400 is a stranger, 101 the wrapper's timer.
 */
const TREE = [
  stat({ pid: 1, comm: "init", ppid: 0, rss: 1000 }),
  stat({ pid: 100, comm: "sh", ppid: 1, rss: 400, utime: 50 }),
  stat({ pid: 101, comm: "sleep", ppid: 100, pgrp: 100, session: 100, rss: 300 }),
  stat({ pid: 200, comm: "npm test", ppid: 100, rss: 1000, utime: 10, stime: 5, cutime: 20 }),
  stat({ pid: 201, comm: "node", ppid: 200, pgrp: 200, session: 200, rss: 2000, utime: 30 }),
  stat({ pid: 202, comm: "sh", ppid: 200, pgrp: 200, session: 200, rss: 100, utime: 1 }),
  stat({ pid: 203, comm: "a (weird) name", ppid: 202, pgrp: 203, session: 200, rss: 50, stime: 4 }),
  stat({ pid: 300, comm: "daemonised", ppid: 1, pgrp: 300, session: 200, rss: 500, utime: 7 }),
  stat({ pid: 400, comm: "stranger", ppid: 1, rss: 9999, utime: 999 }),
];

const snap = (lines: string[], atMs = 10_000): ProcSnapshot => snapshotOf(lines, atMs, 100, 4096);

describe("process tree", () => {
  test("a stat line is read past a command name with spaces and parentheses", () => {
    const s = parseProcStat(stat({ pid: 203, comm: "a (weird) name", ppid: 202, pgrp: 203, session: 200, rss: 50, stime: 4, cutime: 2 }))!;
    assert.deepEqual(s, { pid: 203, comm: "a (weird) name", state: "S", ppid: 202, pgrp: 203, session: 200, cpuTicks: 6, rssPages: 50 });
    assert.equal(parseProcStat("garbage"), null);
    assert.equal(parseProcStat(""), null);
  });

  test("the tree is the worker, its descendants and its session; not its wrapper, timer or a stranger", () => {
    const t = treeUsage(snap(TREE), 200)!;
    assert.deepEqual([...t.pids].sort((a, b) => a - b), [200, 201, 202, 203, 300]);
    assert.equal(t.pids[0], 200, "the root first");
    assert.equal(t.cpuTicks, 10 + 5 + 20 + 30 + 1 + 4 + 7);
    assert.equal(t.rssBytes, (1000 + 2000 + 100 + 50 + 500) * 4096);
  });

  test("a root that leads no session has its descendants only; a missing root has no tree", () => {
    const t = treeUsage(snap(TREE), 202)!;
    assert.deepEqual(t.pids, [202, 203]);
    assert.equal(treeUsage(snap(TREE), 999), null);
  });

  test("CPU % is the ticks between two readings over the time between them, never negative", () => {
    assert.equal(cpuPercent({ cpuTicks: 100, atMs: 0 }, { cpuTicks: 150, atMs: 1_000 }, 100), 50);
    assert.equal(cpuPercent({ cpuTicks: 0, atMs: 0 }, { cpuTicks: 400, atMs: 2_000 }, 100), 200, "two cores busy");
    assert.equal(cpuPercent({ cpuTicks: 500, atMs: 0 }, { cpuTicks: 100, atMs: 1_000 }, 100), 0, "a child left the tree");
    assert.equal(cpuPercent({ cpuTicks: 0, atMs: 5 }, { cpuTicks: 10, atMs: 5 }, 100), null);
  });

  test("readProcSnapshot reads every pid folder of a /proc, skipping the rest and unreadable ones", () => {
    const proc = mkdtempSync(join(tmpdir(), "cpwd-fake-proc-"));
    try {
      for (const line of TREE) {
        const pid = line.slice(0, line.indexOf(" "));
        mkdirSync(join(proc, pid));
        writeFileSync(join(proc, pid, "stat"), `${line}\n`);
      }
      mkdirSync(join(proc, "self"));
      mkdirSync(join(proc, "12345")); // ended between the listing and the read: no stat file
      writeFileSync(join(proc, "uptime"), "1.0 1.0\n");
      const s = readProcSnapshot(proc, "linux")!;
      assert.equal(s.procs.size, TREE.length);
      assert.ok(s.ticksPerSecond > 0 && s.pageBytes > 0);
      assert.equal(treeUsage(s, 200)!.pids.length, 5);
      assert.equal(readProcSnapshot(proc, "darwin"), null, "no /proc elsewhere: nothing measured");
      assert.equal(readProcSnapshot(join(proc, "missing"), "linux"), null);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});

function view(id: string, pid: number | null, state: WorkerView["state"] = "running", startedAtMs = 0): WorkerView {
  return { id, name: null, state, pid, command: ["x"], cwd: "/", startedAt: new Date(startedAtMs).toISOString(), endedAt: null, runMs: 0, restarts: 0, exitCode: null, signal: null, timedOut: false, reason: null, nextStartAt: null, meta: {} };
}

describe("the daemon's sampler", () => {
  test("100 running workers cost one /proc read a call; ended workers get null", () => {
    let reads = 0;
    const lines = Array.from({ length: 100 }, (_, i) => stat({ pid: 1000 + i, ppid: 1, rss: 10, utime: i }));
    const usage = new WorkerUsage({ read: () => (reads++, snap(lines, Date.now())) });
    const views = [...Array.from({ length: 100 }, (_, i) => view(`W${i + 1}`, 1000 + i)), view("W101", null, "exited")];
    const out = usage.annotate(views);
    assert.equal(reads, 1);
    assert.equal(out[5]!.usage!.rssBytes, 10 * 4096);
    assert.equal(out[5]!.usage!.processes, 1);
    assert.equal(out[100]!.usage, null);
    assert.equal(usage.annotate(views.slice(100)).length, 1);
    assert.equal(reads, 1, "no running worker: /proc is not read");
  });

  test("CPU % is measured against the newest reading at least a second old, else over the run", () => {
    let now = 0;
    let ticks = 0;
    const usage = new WorkerUsage({ read: () => snap([stat({ pid: 7, ppid: 1, utime: ticks })], now) });
    const cpuAt = (ms: number, t: number) => {
      now = ms;
      ticks = t;
      return usage.annotate([view("W1", 7, "running", 0)])[0]!.usage!.cpuPercent;
    };
    // The first reading: 100 ticks (1 s of CPU) over the 4 s it has run.
    assert.equal(cpuAt(4_000, 100), 25);
    // 0.5 s later: against the first (the only one older).
    assert.equal(cpuAt(4_500, 150), 100);
    // 1.2 s after the first: the first is the newest ≥ 1 s old.
    assert.equal(cpuAt(5_200, 160), 50);
    // Past a minute of silence: over the run again.
    assert.equal(cpuAt(70_000, 700), 10);
  });

  test("no /proc (another platform): running workers' usage is null, shown as -", () => {
    const usage = new WorkerUsage({ read: () => null });
    assert.equal(usage.annotate([view("W1", 7)])[0]!.usage, null);
  });
});
