// Chaos 1: the daemon killed under load.
//
// Load: four connections appending `ext.chaos` events (eight calls in flight each), a client
// spawning short workers (`sh -c 'sleep S; exit C'`, C in 0..3) and long ones it stops or kills a
// moment later while it lists, reads and asks for status, and hook shims firing all the time
// (CPWD_AUTOSTART=0: they fall back to events.fallback.jsonl while the daemon is down).
// Faults: the daemon is `kill -9`ed 20 times at random moments, down for a random while, and
// started again (the last start is not killed).
// Must hold: every line of events.jsonl parses and seq runs 1, 2, 3… with no gap or repeat; every
// acknowledged append is at the seq it was acknowledged with, once; every acknowledged spawn's
// `worker.queued` is in the record with the spawn's marker, and no id was handed out twice; every
// acknowledged stop is recorded; every line a shim wrote to the fallback log is in the record
// exactly once, and every shim call is somewhere in it; workers ran on undisturbed and were
// adopted with the right final state and exit code (a stopped one `stopped`, the rest `exited` or
// `failed` with their own code, none lost); and once they have ended no process of theirs is left.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import type { EventRecord } from "../../src/protocol/events.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { runShim } from "../helpers/shim.js";
import { assertSeqGapless, figure, homeProcesses, keepOrRemove, killHomeProcesses, n, randInt, readRecord, sleep, workerSideProcesses } from "./chaos-helpers.js";

const KILLS = 20;
const APPENDERS = 4;
const IN_FLIGHT = 8;

interface Spawned {
  marker: string;
  /** The exit code the worker's command ends with (null for a long worker meant to be stopped). */
  code: number | null;
  /** The state the acknowledged stop or kill reply showed, once one was acknowledged. */
  stopAck?: string;
}

/** Everything the clients were told, to be checked against the record at the end. */
class Ledger {
  readonly appends = new Map<number, string>();
  readonly spawned = new Map<string, Spawned>();
  readonly shimSessions: string[] = [];
  shimRuns = 0;
  queries = 0;
}

/** Lines of a file that may be being appended to: complete lines only, bad ones skipped. */
function readLoose(file: string): EventRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: EventRecord[] = [];
  for (const l of text.slice(0, text.lastIndexOf("\n") + 1).split("\n")) {
    if (l === "") continue;
    try {
      out.push(JSON.parse(l) as EventRecord);
    } catch {
      // a torn tail, cut at the next start
    }
  }
  return out;
}

/** One appender connection: IN_FLIGHT loops appending until the connection dies. */
async function appender(c: RpcClient, ledger: Ledger, round: number, conn: number): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (;;) {
        const key = `${round}.${conn}.${i++}`;
        try {
          const { seq } = await c.call("events.append", { type: "ext.chaos", payload: { key } }, { timeoutMs: 5_000 });
          ledger.appends.set(seq, key);
        } catch {
          return; // the daemon died under us
        }
      }
    }),
  );
}

/** The worker client: spawns, stops, kills and queries until the connection dies or `stop` is set. */
async function workerClient(c: RpcClient, ledger: Ledger, round: number, stop: { now: boolean }): Promise<void> {
  let i = 0;
  try {
    while (!stop.now) {
      const marker = `r${round}-${i++}`;
      const long = Math.random() < 0.2;
      const code = long ? null : randInt(0, 3);
      const script = long ? "sleep 20" : `sleep ${(randInt(1, 25) / 10).toFixed(1)}; exit ${code}`;
      const { worker } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", script], cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, graceMs: 2_000, meta: { marker } });
      ledger.spawned.set(String(worker.id), { marker, code });
      // Stop (or kill) a long worker that has not been stopped yet.
      const pending = [...ledger.spawned.entries()].find(([, s]) => s.code === null && s.stopAck === undefined && s.marker !== marker);
      if (pending && Math.random() < 0.5) {
        const method = Math.random() < 0.5 ? "worker.stop" : "worker.kill";
        const r = await c.call(method, { target: pending[0] });
        pending[1].stopAck = String(r.workers[0]!.state);
      }
      if (i % 3 === 0) {
        await c.call("worker.list");
        await c.call("status");
        await c.call("events.read", { fromSeq: Math.max(0, (await c.call("status")).lastSeq - 50), limit: 50 });
        ledger.queries += 4;
      }
      await sleep(randInt(60, 160));
    }
  } catch {
    // the daemon died under us
  }
}

/** Fires shims one after another until `stop` is set. Each call has a session id of its own. */
async function shimFirer(home: string, ledger: Ledger, stop: { now: boolean }): Promise<void> {
  let i = 0;
  await Promise.all(
    [0].map(async (lane) => {
      while (!stop.now) {
        const session = `chaos-shim-${lane}-${i++}`;
        ledger.shimSessions.push(session);
        const input = { session_id: session, hook_event_name: "PostToolUse", tool_name: "Read", tool_input: { file_path: "/etc/hostname" }, cwd: "/" };
        const r = await runShim(home, input, { CPWD_LOG_LEVEL: "warn" });
        assert.equal(r.code, 0, `the shim exits 0 whatever the daemon does: ${r.stderr}`);
        ledger.shimRuns++;
        await sleep(randInt(30, 120));
      }
    }),
  );
}

test("the daemon killed -9 twenty times under load loses, duplicates and disturbs nothing", { timeout: 150_000 }, async () => {
  const home = tempHome("cpwd-chaos-kill9-");
  const paths = pathsFor(home);
  writeFileSync(paths.config, JSON.stringify({ maxParallel: 16 }));
  const env = { CPWD_LOG_LEVEL: "warn" };
  const ledger = new Ledger();
  const shimsStop = { now: false };
  let d: TestDaemon | undefined;
  let shims: Promise<void> | undefined;
  let passed = false;
  try {
    shims = shimFirer(home, ledger, shimsStop);
    for (let round = 0; round <= KILLS; round++) {
      d = await startDaemon(home, env);
      const clients = await Promise.all(Array.from({ length: APPENDERS + 1 }, () => d!.client()));
      const workerStop = { now: false };
      const load = [
        ...clients.slice(0, APPENDERS).map((c, k) => appender(c, ledger, round, k)),
        workerClient(clients[APPENDERS]!, ledger, round, workerStop),
      ];
      if (round === KILLS) {
        // The last start is left alone: load for a while, then the long workers are stopped.
        await sleep(1_000);
        workerStop.now = true;
        for (const c of clients.slice(0, APPENDERS)) c.close();
        await Promise.all(load);
        const c = clients[APPENDERS]!;
        for (const [id, s] of ledger.spawned) {
          if (s.code === null && s.stopAck === undefined) s.stopAck = String((await c.call("worker.stop", { target: id })).workers[0]!.state);
        }
        c.close();
        break;
      }
      await sleep(randInt(300, 1_200));
      await d.kill9();
      await Promise.all(load);
      for (const c of clients) c.close();
      await sleep(randInt(0, 400)); // down: the shims write to the fallback log
    }
    shimsStop.now = true;
    await shims;

    // Every fallback line is taken in (the running daemon watches the file), and every worker ends.
    const c = await d!.client();
    const fallbackLines = readFileSync(paths.fallback, "utf8").split("\n").filter((l) => l !== "");
    const fids = fallbackLines.map((l) => (JSON.parse(l) as { fid: string }).fid);
    await waitFor("every fallback line to be ingested", () => {
      const seen = new Set(readLoose(paths.events).map((e) => e.payload.fallbackId));
      return fids.every((f) => seen.has(f));
    }, 20_000, 100);
    await waitFor("every worker to end", async () => {
      const { workers } = await c.call("worker.list");
      return workers.every((w) => ["exited", "failed", "stopped", "timed_out", "fatal"].includes(String(w.state)));
    }, 40_000, 200);
    const { workers } = await c.call("worker.list");
    c.close();

    // No process of a worker is left once every worker has ended: only the daemon runs for this
    // home, with the wrapper it keeps started ahead; and once it stops, nothing at all.
    await waitFor("the workers' processes to be gone", () => workerSideProcesses(home, d!.pid).length === 0, 10_000, 100);
    await d!.stop();
    d = undefined;
    await waitFor("no process of the home left once the daemon stopped", () => homeProcesses(home).length === 0, 10_000, 100);

    const record = readRecord(paths.events);
    assertSeqGapless(record);
    const bySeq = new Map(record.map((e) => [e.seq, e]));

    // Acknowledged appends: at their seq, once.
    const keys = new Map<string, number>();
    for (const e of record) if (e.type === "ext.chaos") keys.set(String(e.payload.key), (keys.get(String(e.payload.key)) ?? 0) + 1);
    for (const [seq, key] of ledger.appends) {
      const e = bySeq.get(seq);
      assert.equal(e?.type === "ext.chaos" ? e.payload.key : undefined, key, `acknowledged append ${key} is at seq ${seq}`);
    }
    const duplicated = [...keys.values()].filter((k) => k > 1).length;
    assert.equal(duplicated, 0, "no append is recorded twice");

    // Spawns: recorded with their marker, each id once (a launch cut short is queued again, `by` says so).
    const queued = record.filter((e) => e.type === "worker.queued" && e.payload.by === undefined);
    const requeued = record.filter((e) => e.type === "worker.queued" && e.payload.by !== undefined);
    assert.ok(requeued.every((e) => e.payload.by === "launch interrupted"), "nothing else queues a worker again here");
    const queuedIds = queued.map((e) => e.worker!);
    assert.equal(new Set(queuedIds).size, queuedIds.length, "no worker id was queued twice");
    const markerOf = new Map(queued.map((e) => [e.worker!, (e.payload.spec as { meta?: { marker?: string } }).meta?.marker]));
    for (const [id, s] of ledger.spawned) assert.equal(markerOf.get(id), s.marker, `acknowledged spawn ${id} (${s.marker}) is recorded as such`);

    // Stops: an acknowledged stop of a running worker is recorded, and it ends stopped.
    const stopping = new Set(record.filter((e) => e.type === "worker.stopping" || e.type === "worker.cancelled").map((e) => e.worker));
    const viewOf = new Map(workers.map((w) => [String(w.id), w]));
    let stopped = 0;
    let exitedOwn = 0;
    for (const [id, s] of ledger.spawned) {
      const w = viewOf.get(id);
      assert.ok(w, `${id} is known`);
      assert.doesNotMatch(String(w.reason ?? ""), /^lost/, `${id} was not lost: ${w.reason}`);
      if (s.stopAck === "stopping" || s.stopAck === "stopped") {
        assert.ok(stopping.has(id), `the acknowledged stop of ${id} is recorded`);
        assert.equal(w.state, "stopped", `${id} was stopped (acknowledged as ${s.stopAck})`);
        stopped++;
      } else if (s.code !== null) {
        assert.equal(w.state, s.code === 0 ? "exited" : "failed", `${id} ran undisturbed to its own end (${JSON.stringify(w)})`);
        assert.equal(w.exitCode, s.code, `${id}'s exit code`);
        assert.equal(w.signal, null, `${id} was not signalled`);
        exitedOwn++;
      } else {
        assert.fail(`${id} is a long worker whose stop was never acknowledged (${s.stopAck})`);
      }
    }

    // The fallback log: each line once. Each shim call: recorded by the daemon or through the fallback.
    const fidCount = new Map<string, number>();
    for (const e of record) if (e.source === "fallback") fidCount.set(String(e.payload.fallbackId), (fidCount.get(String(e.payload.fallbackId)) ?? 0) + 1);
    for (const f of fids) assert.equal(fidCount.get(f), 1, `fallback record ${f} is in the record exactly once`);
    const shimEvents = new Map<string, number>();
    for (const e of record) if (e.type === "hook.PostToolUse" && e.session) shimEvents.set(e.session, (shimEvents.get(e.session) ?? 0) + 1);
    const missing = ledger.shimSessions.filter((s) => !shimEvents.has(s));
    assert.deepEqual(missing, [], "every shim call is in the record");
    // A call the daemon recorded but could not answer before it died is also written to the
    // fallback by its shim: the one case a hook call is recorded twice (at-least-once, by design).
    const twice = [...shimEvents.values()].filter((k) => k > 1).length;

    const recovered = record.filter((e) => e.type === "log.recovered").length;
    figure(
      "kill-9",
      `${KILLS} kills, ${n(ledger.appends.size)} acked events, 0 lost, 0 duplicated; ${ledger.spawned.size} workers (${exitedOwn} ran to their own exit code, ${stopped} stopped, ${requeued.length} cut short at launch by a kill and run again), 0 lost, no id reused; ` +
        `${n(ledger.shimRuns)} shim calls, ${n(fids.length)} fallback lines ingested once (${twice} of them also recorded live); ${recovered} torn tails recovered; ${n(record.length)} lines, seq gapless`,
    );
    passed = true;
  } finally {
    shimsStop.now = true;
    await shims?.catch(() => undefined);
    if (d) await d.kill9();
    killHomeProcesses(home);
    keepOrRemove(home, passed);
  }
});
