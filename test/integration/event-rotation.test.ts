// events.jsonl rotates by size into compressed segments with a snapshot beside each; a daemon
// starts from the newest whole snapshot (a torn one is passed over for an older one or the
// segments, never for an empty state); events, replay and events.read read across segments; and
// a kill -9 at any step of a rotation loses and repeats nothing. The kill points use the daemon's
// fault hook CPWD_TEST_KILL_AT (daemon/rotate-event-log.ts): the steps are microseconds apart, no
// outside kill could land on each of them.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import type { RpcClient } from "../../src/rpc/client.js";
import { cleanup, cpwd, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { liveWorker, nodeFixture } from "../helpers/fixtures.js";
import { withRotatingRecord } from "../helpers/rotating-record.js";

type Ev = { seq: number; type: string; worker?: string; payload: Record<string, unknown> };

const SMALL = { eventLogMaxBytes: 4096 };
const pre = (file: string, session: string) => ({ hook_event_name: "PreToolUse", session_id: session, cwd: "/repo", tool_name: "Write", tool_input: { file_path: file, content: "x" } });

function segmentsDir(home: string): string {
  return join(home, "segments");
}

function listing(home: string): string[] {
  try {
    return readdirSync(segmentsDir(home)).sort();
  } catch {
    return [];
  }
}

/** Every event on disk, segments (either form) then events.jsonl, in file order. */
function record(home: string): Ev[] {
  const names = listing(home).filter((n) => /^events-.*\.jsonl(\.gz)?$/.test(n));
  // One form per range: the .gz when both are there (the daemon removes the plain one after).
  const chosen = names.filter((n) => n.endsWith(".gz") || !names.includes(`${n}.gz`));
  const texts = chosen.map((n) => {
    const buf = readFileSync(join(segmentsDir(home), n));
    return n.endsWith(".gz") ? gunzipSync(buf).toString("utf8") : buf.toString("utf8");
  });
  let live = "";
  try {
    live = readFileSync(pathsFor(home).events, "utf8");
  } catch {
    // between the two renames of a rotation
  }
  return [...texts, live].flatMap((t) => t.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Ev));
}

function assertGapless(events: Ev[]): void {
  for (let i = 0; i < events.length; i++) assert.equal(events[i]!.seq, i + 1, `event ${i} has seq ${events[i]!.seq}`);
}

function writeConfig(home: string, config: Record<string, unknown>): void {
  writeFileSync(pathsFor(home).config, JSON.stringify(config));
}

async function fill(c: RpcClient, n: number, tag = "fill"): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await c.call("events.append", { type: `ext.${tag}`, payload: { i, pad: "x".repeat(120) } })).seq);
  return seqs;
}

async function spawn(c: RpcClient, script: string, arg: string, name: string): Promise<string> {
  const { worker } = await c.call("worker.spawn", { argv: nodeFixture(script, arg), name, cwd: "/", env: { PATH: process.env.PATH ?? "" } });
  return String(worker.id);
}

/** Rotation's background work is done: every segment compressed, nothing half written. */
async function settled(home: string): Promise<void> {
  await waitFor("rotation to settle", () => {
    const names = listing(home);
    return names.length > 0 && !names.some((n) => n.endsWith(".tmp") || n.endsWith(".jsonl"));
  });
}

/** What a restarted daemon must answer as before: workers, claims, counts. */
async function stateOf(c: RpcClient) {
  const status = await c.call("status");
  const workers = (status.workers as Array<Record<string, unknown>>).map((w) => ({ id: w.id, name: w.name, state: w.state, restarts: w.restarts, exitCode: w.exitCode }));
  const claims = ((await c.call("claims.list")).claims as Array<Record<string, unknown>>).map((x) => ({ path: x.path, worker: x.worker }));
  return { workers, claims, eventCount: status.eventCount as number };
}

test("events.jsonl rotates at the configured size into compressed segments, each with a snapshot; seq is gapless across them and events, replay and events.read read them all", () => withRotatingRecord(undefined, async (home, run) => {
  const c = await run.d!.client();
  const done = await spawn(c, "exit.js", "0", "early");
  await waitFor("early to exit", async () => (await c.call("worker.get", { target: done })).workers[0]?.state === "exited");
  const seqs = await fill(c, 150);
  await settled(home);
  const names = listing(home);
  const segments = names.filter((n) => n.endsWith(".jsonl.gz"));
  assert.ok(segments.length >= 4, `several segments: ${names.join(" ")}`);
  for (const s of segments) {
    const last = Number(/-(\d+)\.jsonl\.gz$/.exec(s)![1]);
    assert.ok(names.includes(`snapshot-${String(last).padStart(12, "0")}.json`), `a snapshot beside ${s}`);
  }
  assert.ok(readFileSync(pathsFor(home).events).length < 4096 + 2048, "the live file stays near the size");
  let all = record(home);
  assertGapless(all);
  assert.deepEqual(all.filter((e) => e.type === "ext.fill").map((e) => e.seq), seqs);

  // cpwd events reads across segments: a page from seq 1, and the tail.
  const page = cpwd(home, ["events", "--from", "1", "--limit", "1000", "--json"]);
  assert.equal(page.code, 0, page.stderr);
  const paged = page.stdout.trim().split("\n").map((l) => JSON.parse(l) as Ev);
  assert.deepEqual(paged.map((e) => e.seq), all.map((e) => e.seq).filter((s) => s <= paged.at(-1)!.seq));
  const tail = cpwd(home, ["events", "-n", "60", "--type", "ext.fill", "--json"]);
  assert.deepEqual(tail.stdout.trim().split("\n").map((l) => (JSON.parse(l) as Ev).seq), seqs.slice(-60));
  const named = cpwd(home, ["events", "--worker", "early", "--from", "1", "--json"]);
  assert.ok(named.stdout.includes('"worker.exited"'), named.stderr);

  // events.read from seq 1: the first page comes out of the oldest segment.
  const read = await c.call("events.read", { fromSeq: 1, limit: 40 });
  assert.deepEqual((read.events as Ev[]).map((e) => e.seq), Array.from({ length: 40 }, (_, i) => i + 1));

  // A subscription from seq 1 catches up through every segment, then goes on live through more
  // rotations: each seq once, in order.
  const got: number[] = [];
  c.onNotification("events.batch", (p) => got.push(...(p.events as Ev[]).map((e) => e.seq)));
  await c.call("events.subscribe", { fromSeq: 1 });
  const more = await fill(c, 60, "live");
  await waitFor("the subscription to reach the last append", () => got.at(-1) === more.at(-1));
  assert.deepEqual(got, Array.from({ length: more.at(-1)! }, (_, i) => i + 1));
  await settled(home);

  // cpwd replay: now, and at a seq inside an early segment.
  all = record(home);
  const now = JSON.parse(cpwd(home, ["replay", "--json"]).stdout);
  assert.equal(now.atSeq, all.at(-1)!.seq);
  assert.deepEqual(now.workers.map((w: { name: string; state: string }) => [w.name, w.state]), [["early", "exited"]]);
  const queued = all.find((e) => e.type === "worker.queued")!.seq;
  const then = JSON.parse(cpwd(home, ["replay", "--at", String(queued), "--json"]).stdout);
  assert.deepEqual(then.workers.map((w: { state: string }) => w.state), ["queued"]);
  c.close();
}));

test("a daemon restarted on a rotated record starts from the newest snapshot and answers as before; a torn snapshot falls back to an older one or the segments, never to an empty state", () => withRotatingRecord(undefined, async (home, run) => {
  let c = await run.d!.client();
  const keeper = await liveWorker(c, "keeper");
  await c.call("hook.handle", { event: pre("/repo/held.ts", "s-keeper"), workerId: keeper });
  const gone = await spawn(c, "exit.js", "3", "gone");
  await waitFor("gone to fail", async () => (await c.call("worker.get", { target: gone })).workers[0]?.state === "failed");
  await c.call("worker.remove", { target: gone });
  await fill(c, 120);
  await settled(home);
  const before = await stateOf(c);
  assert.deepEqual(before.claims, [{ path: "/repo/held.ts", worker: keeper }]);
  c.close();
  await run.d!.stop();

  // Old segments are not read: remove every segment before the newest snapshot's.
  const snapshots = listing(home).filter((n) => n.startsWith("snapshot-"));
  const newest = Number(/(\d+)/.exec(snapshots.at(-1)!)![1]);
  const saved = new Map<string, Buffer>();
  for (const n of listing(home).filter((x) => x.endsWith(".gz") && Number(/-(\d+)\.jsonl/.exec(x)![1]) <= newest)) {
    saved.set(n, readFileSync(join(segmentsDir(home), n)));
    rmSync(join(segmentsDir(home), n));
  }
  run.d = await startDaemon(home);
  c = await run.d!.client();
  const fromSnapshot = await stateOf(c);
  assert.deepEqual(fromSnapshot.workers, before.workers);
  assert.deepEqual(fromSnapshot.claims, before.claims);
  assert.ok(fromSnapshot.eventCount > before.eventCount, "every event counted, those before the snapshot too");
  // The worker still held its file across the restart: another worker is refused it.
  const other = await liveWorker(c);
  const denied = await c.call("hook.handle", { event: pre("/repo/held.ts", "s-other"), workerId: other });
  assert.match(JSON.stringify(denied), /deny/);
  c.close();
  await run.d!.stop();
  for (const [n, buf] of saved) writeFileSync(join(segmentsDir(home), n), buf);

  // The newest snapshot torn: the previous one and one segment more.
  const newestFile = join(segmentsDir(home), listing(home).filter((n) => n.startsWith("snapshot-")).at(-1)!);
  const whole = readFileSync(newestFile);
  writeFileSync(newestFile, whole.subarray(0, whole.length >> 1));
  run.d = await startDaemon(home);
  c = await run.d!.client();
  assert.deepEqual((await stateOf(c)).workers.filter((w) => w.id !== other), before.workers);
  assert.match(readFileSync(pathsFor(home).daemonLog, "utf8"), /snapshot is torn/);
  c.close();
  await run.d!.stop();

  // Every snapshot torn: the segments from the first.
  for (const n of listing(home).filter((x) => x.startsWith("snapshot-"))) writeFileSync(join(segmentsDir(home), n), "{}\n");
  run.d = await startDaemon(home);
  c = await run.d!.client();
  const fromSegments = await stateOf(c);
  assert.deepEqual(fromSegments.workers.filter((w) => w.id !== other), before.workers);
  assert.deepEqual(fromSegments.claims.filter((x) => x.worker === keeper), before.claims);
  c.close();
  await run.d!.stop();

  // Torn snapshots and a segment missing: the daemon refuses to start rather than forget.
  rmSync(join(segmentsDir(home), listing(home).find((n) => n.endsWith(".gz"))!));
  await assert.rejects(startDaemon(home), /no events 1…\d+/);
  run.d = undefined;
}));

for (const step of ["renamed", "compressed-tmp", "compressed", "snapshot-tmp", "snapshot"]) {
  test(`kill -9 of the daemon at rotation step "${step}": the next start loses and repeats nothing, and finishes the rotation`, async () => {
    const home = tempHome();
    writeConfig(home, SMALL);
    let d: TestDaemon | undefined;
    try {
      d = await startDaemon(home, { CPWD_TEST_KILL_AT: step });
      const c = await d.client();
      const w = await spawn(c, "exit.js", "0", "before");
      const acked: number[] = [];
      try {
        for (let i = 0; i < 400; i++) acked.push((await c.call("events.append", { type: "ext.fill", payload: { i, pad: "x".repeat(120) } })).seq);
      } catch {
        // the daemon killed itself at the step
      }
      c.close();
      assert.equal(await d.exited, null, "killed by its signal");
      assert.ok(acked.length < 400, "it died during the appends");
      d = await startDaemon(home);
      const c2 = await d.client();
      await fill(c2, 40, "after");
      await settled(home);
      const all = record(home);
      assertGapless(all);
      const fills = all.filter((e) => e.type === "ext.fill").map((e) => e.seq);
      for (const seq of acked) assert.ok(fills.includes(seq), `acknowledged seq ${seq} is on disk`);
      assert.equal(new Set(all.map((e) => e.seq)).size, all.length, "no seq twice");
      const worker = (await c2.call("worker.get", { target: w })).workers[0];
      assert.equal(worker?.name, "before");
      assert.ok(!readdirSync(home).includes("events.jsonl.next"));
      c2.close();
    } finally {
      await cleanup(d, home);
    }
  });
}
