// Chaos 5: disk trouble.
//
// Load: CPWD_HOME on an 8 MiB tmpfs (maxParallel 2); four connections appending 1 KiB events
// without pause, a client spawning workers (two holding both slots past the fill and two queued
// behind them), and hook shims firing, while a filler writes until the file system
// refuses (ENOSPC); the load goes on against the full disk for a while; then the filler is
// deleted and the load goes on again. Needs root to mount the tmpfs: skipped with a message
// otherwise.
// Must hold: while the disk is full every durable request (append, spawn, hook) is refused with
// an error, IO for appends, and never acknowledged; `status` carries the condition
// (eventLogFailure ENOSPC), `cpwd status` warns and `cpwd doctor` fails its daemon check saying
// the disk is full; the shims still answer (exit 0); once space is freed the same daemon (no
// restart) acknowledges appends again and clears the condition, and the workers queued at the
// fill run; every worker reaches an end; every line of events.jsonl parses,
// seq has no gap, every acknowledged append is in it at its seq, and no refused one is.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { EventRecord } from "../../src/protocol/events.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { cpwd, pidAlive, startDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { runShim } from "../helpers/shim.js";
import { fillDisk, mountTmpfs, unmountTmpfs } from "../helpers/tmpfs.js";
import { assertSeqGapless, figure, killHomeProcesses, n, readRecord, sleep } from "./chaos-helpers.js";

/** Before the filler; while it fills (the log's last page may still take lines); full; freed. */
type Phase = "before" | "filling" | "full" | "after";

/** What each request was told, by phase. */
class Outcomes {
  readonly acked = new Map<number, string>();
  readonly refused = new Map<Phase, Map<string, number>>([["before", new Map()], ["filling", new Map()], ["full", new Map()], ["after", new Map()]]);
  readonly refusedKeys = new Set<string>();
  readonly ackedIn = new Map<Phase, number>([["before", 0], ["filling", 0], ["full", 0], ["after", 0]]);
  refuse(phase: Phase, code: string): void {
    const m = this.refused.get(phase)!;
    m.set(code, (m.get(code) ?? 0) + 1);
  }
}

test("a full disk under load: durable requests refused, never acknowledged; the condition shown; recovered without a restart", { timeout: 120_000 }, async (t) => {
  const mount = mountTmpfs("8m");
  if (!mount) return t.skip("cannot mount a tmpfs here (needs root): the disk-trouble scenario is skipped");
  const home = join(mount, "home");
  mkdirSync(home, { mode: 0o700 });
  let d: TestDaemon | undefined;
  const clients: RpcClient[] = [];
  try {
    writeFileSync(join(home, "config.json"), JSON.stringify({ maxParallel: 2 }));
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    const out = new Outcomes();
    let phase: Phase = "before";
    let stop = false;
    const pad = "x".repeat(1024);

    const appender = async (c: RpcClient, k: number) => {
      for (let i = 0; !stop; i++) {
        const key = `${k}.${i}`;
        const p = phase;
        try {
          const { seq } = await c.call("events.append", { type: "ext.disk", payload: { key, pad } });
          out.acked.set(seq, key);
          out.ackedIn.set(p, out.ackedIn.get(p)! + 1);
        } catch (err) {
          out.refusedKeys.add(key);
          out.refuse(p, (err as { code?: string }).code ?? "?");
          if (p === "filling" || p === "full") assert.equal((err as { code?: string }).code, "IO", `an append on the full disk is refused with IO: ${(err as Error).message}`);
          await sleep(5);
        }
      }
    };
    const spawner = async (c: RpcClient) => {
      const spawned: Array<{ id: string | null; phase: Phase; code?: string }> = [];
      while (!stop) {
        const p = phase;
        try {
          const { worker } = await c.call("worker.spawn", { argv: ["/bin/true"], cwd: "/", env: { PATH: "/usr/bin:/bin" } });
          spawned.push({ id: String(worker.id), phase: p });
        } catch (err) {
          const code = (err as { code?: string }).code ?? "?";
          if (p === "full") assert.equal(code, "IO", `a spawn on the full disk is refused with IO: ${(err as Error).message}`);
          spawned.push({ id: null, phase: p, code });
          out.refuse(p, `spawn:${(err as { code?: string }).code ?? "?"}`);
        }
        await sleep(50);
      }
      return spawned;
    };
    const shims = async () => {
      let runs = 0;
      while (!stop) {
        const r = await runShim(home, { hook_event_name: "PostToolUse", session_id: `disk-${runs}`, tool_name: "Read", tool_input: { file_path: "/etc/hostname" } }, { CPWD_LOG_LEVEL: "warn" });
        assert.equal(r.code, 0, `the shim answers, full disk or not: ${r.stderr}`);
        runs++;
      }
      return runs;
    };
    for (let k = 0; k < 5; k++) clients.push(await d.client());
    const load = [...clients.slice(0, 4).map((c, k) => appender(c, k))];
    const spawning = spawner(clients[4]!);
    const shimming = shims();

    await sleep(500);
    // Two workers that hold both slots past the fill, and two queued behind them: their starts
    // come while the disk is full.
    const blockers = [];
    for (let i = 0; i < 2; i++) blockers.push(String((await clients[4]!.call("worker.spawn", { argv: ["/bin/sh", "-c", "sleep 1.5"], cwd: "/", env: { PATH: "/usr/bin:/bin" } })).worker.id));
    const waiting: string[] = [];
    for (let i = 0; i < 2; i++) waiting.push(String((await clients[4]!.call("worker.spawn", { argv: ["/bin/sh", "-c", "echo ran"], cwd: "/", env: { PATH: "/usr/bin:/bin" } })).worker.id));
    phase = "filling";
    fillDisk(join(mount, "filler"));
    // Once the log's last page is full, every append is refused.
    await waitFor("appends to be refused", () => (out.refused.get("filling")!.get("IO") ?? 0) > 20, 20_000, 20);
    phase = "full";
    await sleep(500);
    const c = clients[4]!;
    const status = await c.call("status");
    assert.equal((status.eventLogFailure as { errno?: string } | null)?.errno, "ENOSPC", "status carries the condition");
    assert.match(cpwd(home, ["status"]).stdout, /WARNING.*event log cannot be written.*disk is full/);
    const doctor = cpwd(home, ["doctor"]);
    assert.notEqual(doctor.code, 0, "doctor fails");
    assert.match(doctor.stdout + doctor.stderr, /cannot write events\.jsonl.*the disk is full/);
    assert.equal(out.ackedIn.get("full"), 0, "nothing is acknowledged while the disk is full");
    assert.ok((out.refused.get("full")!.get("IO") ?? 0) > 0, "appends are refused while the disk is full");

    // Freed: the same daemon goes on.
    rmSync(join(mount, "filler"));
    phase = "after";
    await waitFor("appends to be acknowledged again", () => out.ackedIn.get("after")! > 100, 20_000, 20);
    assert.equal((await c.call("status")).eventLogFailure, null, "the condition is cleared");
    stop = true;
    await Promise.all(load);
    const spawned = await spawning;
    const shimRuns = await shimming;
    assert.ok(pidAlive(d.pid), "the same daemon, never restarted");
    // Every worker reaches an end. One that ended while the disk was full could not have its
    // exit.json written by its wrapper, and is recorded failed, "lost" (counted below).
    const ENDS = ["exited", "failed"];
    await waitFor("every worker to end", async () => (await c.call("worker.list")).workers.every((w) => ENDS.includes(String(w.state))), 30_000, 50).catch(async (err) => {
      const left = (await c.call("worker.list")).workers.filter((w) => !ENDS.includes(String(w.state)));
      throw new Error(`${(err as Error).message}: ${JSON.stringify(left.map((w) => [w.id, w.state, w.reason]))}`);
    });
    const { workers } = await c.call("worker.list");
    for (const id of waiting) {
      const w = workers.find((x) => x.id === id)!;
      assert.equal(w.state, "exited", `${id}, queued when the disk filled, ran once it was freed (${JSON.stringify(w)})`);
    }
    for (const cl of clients) cl.close();
    clients.length = 0;
    await d.stop();

    const record = readRecord(d.paths.events);
    assertSeqGapless(record);
    const bySeq = new Map<number, EventRecord>(record.map((e) => [e.seq, e]));
    for (const [seq, key] of out.acked) assert.equal(bySeq.get(seq)?.payload.key, key, `acknowledged append ${key} is at seq ${seq}`);
    const recordedKeys = new Set(record.filter((e) => e.type === "ext.disk").map((e) => String(e.payload.key)));
    for (const key of out.refusedKeys) assert.ok(!recordedKeys.has(key), `refused append ${key} is not in the record`);
    // No spawn was acknowledged on the full disk; every acknowledged one is known.
    const ids = new Set(workers.map((w) => String(w.id)));
    for (const s of spawned) if (s.id) assert.ok(ids.has(s.id), `acknowledged spawn ${s.id} is known`);
    const fullSpawns = spawned.filter((s) => s.phase === "full");
    assert.ok(fullSpawns.every((s) => s.id === null), `no spawn was acknowledged on the full disk: ${JSON.stringify(fullSpawns.filter((s) => s.id))}`);

    const refusedFull = [...out.refused.get("full")!].map(([k, v]) => `${v} ${k}`).join(", ");
    figure(
      "disk-full",
      `8 MiB tmpfs filled under load: ${n(out.ackedIn.get("before")!)} appends acked before, ${n(out.ackedIn.get("filling")!)} while filling, 0 while full (refused: ${refusedFull}); ` +
        `status/cpwd status/doctor showed ENOSPC; freed → ${n(out.ackedIn.get("after")!)} acked after, same daemon; ${waiting.length} workers queued at the fill ran once freed; ${spawned.filter((s) => s.id).length + 4} workers spawned, each ended (${workers.filter((w) => String(w.reason ?? "").startsWith("lost")).length} lost: ended while full); ${shimRuns} shim calls exit 0; ${n(record.length)} lines whole, seq gapless`,
    );
  } finally {
    for (const cl of clients) cl.close();
    if (d) await d.kill9();
    killHomeProcesses(home);
    unmountTmpfs(mount);
  }
});
