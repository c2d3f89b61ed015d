// The supervisor shell with a fake runner, a fake clock and an in-memory log: queueing, the
// concurrency limit, crash loops, stops, timeouts and user restarts, without real processes.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { AdoptResult, ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { workerMethodGroup } from "../../daemon/supervisor/worker-handlers.js";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import type { EventInput } from "../../src/protocol/events.js";
import { workerDir } from "../../src/platform/paths.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

let home: string;
let clock: FakeClock;
let log: MemoryLog;
let runner: FakeRunner | ScriptedRunner;
let sup: Supervisor;

async function make(config = {}, seed = 0.5): Promise<void> {
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, config), runner, random: () => seed }, []);
}

function spec(over: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    argv: ["job"], cwd: "/", env: { A: "1" }, timeoutMs: null, meta: {},
    restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 },
    ...over,
  };
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-sup-"));
  clock = new FakeClock();
  log = new MemoryLog(clock);
  runner = new FakeRunner(clock);
});
afterEach(() => {
  sup?.close();
  rmSync(home, { recursive: true, force: true });
});

test("with maxParallel 2, six workers run two at a time, in FIFO order", async () => {
  await make({ maxParallel: 2 });
  for (let i = 0; i < 6; i++) await sup.spawn(spec({ name: `w${i}` }));
  await settle();
  assert.deepEqual(runner.running().sort(), ["W1", "W2"]);
  assert.deepEqual(sup.list().map((w) => w.state), ["running", "running", "queued", "queued", "queued", "queued"]);
  const order: string[] = [];
  while (runner.running().length > 0) {
    const id = runner.running().sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))[0]!;
    order.push(id);
    runner.finish(id, 0);
    await settle();
    assert.ok(runner.running().length <= 2);
  }
  assert.deepEqual(order, ["W1", "W2", "W3", "W4", "W5", "W6"]);
  assert.ok(sup.list().every((w) => w.state === "exited"));
  // The environment went to the runner, but never into the log.
  assert.equal(runner.launched[0]!.env.A, "1");
  assert.equal(runner.launched[0]!.env.CPWD_WORKER_ID, "W1");
  assert.ok(!JSON.stringify(log.records).includes('"A":"1"'));
});

test("a crash loop backs off with growing delays, then goes fatal", async () => {
  await make({}, 1);
  await sup.spawn(spec({ restart: { mode: "on-failure", maxRestarts: 3, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 } }));
  await settle();
  for (let i = 0; i < 4; i++) {
    runner.finish("W1", 1);
    await settle();
    const w = sup.list()[0]!;
    if (w.state === "fatal") break;
    assert.equal(w.state, "backoff");
    clock.advance(120_000);
    await settle();
  }
  const delays = log.records.filter((r) => r.type === "worker.backoff").map((r) => r.payload.delayMs);
  assert.deepEqual(delays, [1_000, 2_000, 4_000]);
  const w = sup.list()[0]!;
  assert.equal(w.state, "fatal");
  assert.equal(w.restarts, 3);
  assert.match(w.reason ?? "", /limit 3/);
  assert.equal(clock.pending(), 0, "no timer left behind");
});

test("stop: SIGTERM, then SIGKILL after the grace, and the end is `stopped`", async () => {
  await make();
  await sup.spawn(spec({ graceMs: 5_000 }));
  await settle();
  await sup.stop("W1");
  assert.deepEqual(runner.signals, [["W1", "SIGTERM"]]);
  clock.advance(4_999);
  assert.equal(runner.signals.length, 1);
  clock.advance(1);
  assert.deepEqual(runner.signals[1], ["W1", "SIGKILL"]);
  runner.finish("W1", null, "SIGKILL");
  await settle();
  assert.equal(sup.list()[0]!.state, "stopped");
  assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.started", "worker.stopping", "worker.exited"]);
});

test("a timed-out worker records worker.timeout and ends timed_out; a stopped queued one is cancelled", async () => {
  await make({ maxParallel: 1 });
  await sup.spawn(spec({ timeoutMs: 1_000 }));
  await sup.spawn(spec());
  await settle();
  runner.finish("W1", null, "SIGKILL", true);
  await settle();
  assert.equal(sup.list()[0]!.state, "timed_out");
  assert.ok(log.types("W1").includes("worker.timeout"));
  runner.finish("W2", 0);
  await settle();
  await sup.spawn(spec());
  await sup.spawn(spec());
  await settle();
  await sup.stop("W4");
  assert.equal(sup.list()[3]!.state, "stopped");
  assert.ok(log.types("W4").includes("worker.cancelled"));
});

test("a user restart of a running worker stops it and queues it again; rm refuses a running worker", async () => {
  await make();
  await sup.spawn(spec({ graceMs: 100 }));
  await settle();
  await assert.rejects(sup.remove("W1", false), /running; stop it first/);
  await sup.restart("W1");
  runner.finish("W1", null, "SIGTERM");
  await settle();
  assert.equal(sup.list()[0]!.state, "running");
  assert.equal(runner.launched.length, 2);
  assert.equal(sup.list()[0]!.restarts, 1, "a user restart counts in RESTARTS");
  assert.deepEqual(sup.record("W1")!.restartTimesMs, [], "but not toward the crash loop");
  runner.finish("W1", 0);
  await settle();
  assert.deepEqual((await sup.remove("W1", false)).id, "W1");
  assert.equal(sup.list().length, 0);
  await sup.spawn(spec());
  assert.equal(sup.list()[0]!.id, "W2", "ids are never reused");
});

// ---- fixes: launches, adoption, lost decisions, rm all, shutdown, healthy runs ---------------------

/** A runner whose launches can be held back or made to fail, and whose adopt finds what it is told. */
class ScriptedRunner extends FakeRunner {
  /** Launches wait for this while set. */
  gate: Promise<void> | null = null;
  /** The next launches throw this many times. */
  failLaunches = 0;
  /** What adopt answers, by worker id (default: lost). */
  adoptions = new Map<string, AdoptResult>();
  override async launch(s: LaunchSpec): Promise<WorkerHandle> {
    if (this.gate) await this.gate;
    if (this.failLaunches > 0) {
      this.failLaunches--;
      throw new Error("spawn ENOENT");
    }
    return super.launch(s);
  }
  override async adopt(...args: unknown[]): Promise<AdoptResult> {
    return this.adoptions.get(String(args[0])) ?? { kind: "lost", handle: null };
  }
  private readonly onExits = new Map<string, (e: ExitStatus) => void>();
  override watchExit(handle: WorkerHandle, dir: string, onExit: (exit: ExitStatus) => void): () => void {
    this.onExits.set(handle.workerId, onExit);
    return super.watchExit(handle, dir, onExit);
  }
  /** Ends a running worker as the process runner reports a wrapper killed outright. */
  lose(id: string): void {
    this.onExits.get(id)!({ code: null, signal: null, timedOut: false, endedAtMs: clock.now(), lost: true });
  }
}

/** An event log that remembers which events were appended together (one commit each). */
class BatchLog extends MemoryLog {
  readonly batches: string[][] = [];
  override async append(inputs: EventInput[]) {
    this.batches.push(inputs.map((i) => `${i.worker}:${i.type}`));
    return super.append(inputs);
  }
}

/** An event log that refuses appends once closed, as the real one does. */
class ClosingLog extends MemoryLog {
  closed = false;
  override async append(inputs: EventInput[]) {
    if (this.closed) throw new Error("event log is closed");
    return super.append(inputs);
  }
}

const onFailure = (over: Partial<WorkerSpec["restart"]> = {}): WorkerSpec["restart"] => ({
  mode: "on-failure", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000, ...over,
});

const queuedSpec = (restart = spec().restart) => ({ spec: { argv: ["job"], cwd: "/", name: null, timeoutMs: null, graceMs: 5_000, restart, meta: {} } });

/** Polls a condition on real time (for background file I/O); fails after `timeoutMs`. */
async function waitUntil(fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a supervisor over the events written so far (a daemon coming back after a crash). */
async function restartOver(r: ScriptedRunner, config = {}): Promise<void> {
  runner = r;
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, config), runner: r, random: () => 0.5 }, [...log.records]);
}

/** A scripted runner whose launches wait until the returned function is called. */
function holdLaunches(): () => void {
  const r = new ScriptedRunner(clock);
  runner = r;
  let release!: () => void;
  r.gate = new Promise((res) => (release = res));
  return release;
}

test("kill of a worker still launching sends SIGKILL once its pid is known, not SIGTERM after the default grace", async () => {
  const release = holdLaunches();
  await make();
  await sup.spawn(spec({ graceMs: 5_000 }));
  await sup.spawn(spec({ graceMs: 5_000 }));
  await settle();
  // Launched, not yet recorded: a launch is recorded with its start, and the stops with it.
  assert.deepEqual(sup.list().map((w) => w.state), ["queued", "queued"]);
  const stops = [sup.kill("W1"), sup.stop("W2", 2_000), sup.kill("W2")]; // a kill after a stop, both before the pid is known: the kill wins
  await settle();
  release();
  await Promise.all(stops);
  await settle();
  assert.deepEqual(runner.signals.filter(([id]) => id === "W1"), [["W1", "SIGKILL"]]);
  assert.deepEqual(runner.signals.filter(([id]) => id === "W2"), [["W2", "SIGKILL"]]);
  assert.equal(clock.pending(), 0, "no SIGKILL timer armed with the default grace");
});

test("a stop during the launch uses the grace it asked for", async () => {
  const release = holdLaunches();
  await make();
  await sup.spawn(spec({ graceMs: 5_000 }));
  await settle();
  const stopped = sup.stop("W1", 1_000); // answered once the launch and the stop are recorded
  await settle();
  release();
  await stopped;
  await settle();
  assert.deepEqual(runner.signals, [["W1", "SIGTERM"]]);
  clock.advance(1_000);
  assert.deepEqual(runner.signals, [["W1", "SIGTERM"], ["W1", "SIGKILL"]]);
});

test("a worker adopted after a daemon restart has its logs rotated like a launched one", async () => {
  await log.append([
    { type: "worker.queued", worker: "W1", payload: queuedSpec() },
    { type: "worker.starting", worker: "W1", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W1", payload: { pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: clock.now() } },
  ]);
  const r = new ScriptedRunner(clock);
  r.adoptions.set("W1", { kind: "running", handle: { workerId: "W1", pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: clock.now() } });
  const logs = join(workerDir(fakeContext(home, clock, log).paths, "W1"), "logs");
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, "stdout.log"), "x".repeat(100));
  await restartOver(r, { logMaxBytes: 10, logFiles: 2 });
  assert.equal(sup.list()[0]!.state, "running");
  // The rotator checks a worker's logs one last time when it ends: only if it was registered.
  r.finish("W1", 0);
  await settle();
  // The last check runs in the background (async fs): wait for it, not for a number of ticks.
  await waitUntil(() => existsSync(join(logs, "stdout.log.1")) && existsSync(join(logs, "stdout.log.2")));
  assert.equal(readFileSync(join(logs, "stdout.log.1"), "utf8"), "x".repeat(10), "the newest piece, at most the limit");
  assert.match(readFileSync(join(logs, "stdout.log.2"), "utf8"), /^\[cpwd: \d+ earlier bytes dropped/, "far over the limit: what does not fit is dropped, and said so");
  assert.equal(readFileSync(join(logs, "stdout.log"), "utf8"), "");
});

test("a worker adopted while still `starting` (the daemon died before worker.started) is recorded as running", async () => {
  await log.append([
    { type: "worker.queued", worker: "W1", payload: queuedSpec() },
    { type: "worker.starting", worker: "W1", payload: { attempt: 0 } },
  ]);
  const r = new ScriptedRunner(clock);
  r.adoptions.set("W1", { kind: "running", handle: { workerId: "W1", pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: clock.now() - 5_000 } });
  await restartOver(r);
  const w = sup.list()[0]!;
  assert.equal(w.state, "running");
  assert.equal(w.pid, 4242);
  assert.equal(w.startedAt, new Date(clock.now() - 5_000).toISOString());
  assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.started"]);
  r.finish("W1", 0);
  await settle();
  assert.equal(sup.list()[0]!.state, "exited");
});

test("a worker launched but not yet recorded when the daemon died is adopted, not launched twice; an old run's run.json is not taken for a launch", async () => {
  const endedAtMs = Date.now() + 60_000; // W2's last run ended after both run.json files below were written
  await log.append([
    { type: "worker.queued", worker: "W1", payload: queuedSpec() },
    { type: "worker.queued", worker: "W2", payload: queuedSpec() },
    { type: "worker.starting", worker: "W2", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W2", payload: { pid: 10, wrapperPid: 11, startedAtMs: endedAtMs - 1_000 } },
    { type: "worker.exited", worker: "W2", payload: { state: "exited", code: 0, signal: null, timedOut: false, runMs: 1_000, endedAtMs } },
    { type: "worker.queued", worker: "W2", payload: { ...queuedSpec(), by: "user restart" } },
  ]);
  // W1's run.json is from a launch the log lacks (launch comes before its record); W2's from its last run.
  for (const id of ["W1", "W2"]) {
    const dir = workerDir(fakeContext(home, clock, log).paths, id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "run.json"), JSON.stringify({ pid: 4242, wrapperPid: 4241 }));
  }
  const r = new ScriptedRunner(clock);
  r.adoptions.set("W1", { kind: "running", handle: { workerId: "W1", pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: clock.now() } });
  await restartOver(r);
  await settle();
  assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.started"]);
  assert.equal(sup.list()[0]!.state, "running");
  assert.equal(sup.list()[0]!.pid, 4242);
  assert.deepEqual(r.launched.map((l) => l.workerId), ["W2"], "W1 adopted, not launched again; W2 launched anew");
});

test("an exit whose restart decision was lost in a daemon crash gets it when the daemon comes back", async () => {
  const exited = (state: string, code: number | null) => ({ state, code, signal: null, timedOut: false, runMs: 10, endedAtMs: clock.now() });
  const started = { pid: 1, wrapperPid: 2, startedAtMs: clock.now() - 10 };
  await log.append([
    // W1: on-failure, failed, and the daemon died before worker.backoff.
    { type: "worker.queued", worker: "W1", payload: queuedSpec(onFailure()) },
    { type: "worker.starting", worker: "W1", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W1", payload: started },
    { type: "worker.exited", worker: "W1", payload: exited("failed", 1) },
    // W2: a user restart, stopped, and the daemon died before worker.queued.
    { type: "worker.queued", worker: "W2", payload: queuedSpec() },
    { type: "worker.starting", worker: "W2", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W2", payload: started },
    { type: "worker.stopping", worker: "W2", payload: { graceMs: 100, restart: true } },
    { type: "worker.exited", worker: "W2", payload: exited("stopped", null) },
    // W3: failed with no restart policy: nothing to decide.
    { type: "worker.queued", worker: "W3", payload: queuedSpec() },
    { type: "worker.starting", worker: "W3", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W3", payload: started },
    { type: "worker.exited", worker: "W3", payload: exited("failed", 1) },
  ]);
  await restartOver(new ScriptedRunner(clock));
  await settle();
  assert.deepEqual(sup.list().map((w) => w.state), ["backoff", "running", "failed"]);
  assert.equal(log.types("W1").at(-1), "worker.backoff");
  assert.equal(log.types("W3").at(-1), "worker.exited", "no event for a worker whose policy does not restart");
  clock.advance(1_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "running", "the backoff it was given is carried out");
});

test("a failed launch shows no start time, and counts as a quick failure", async () => {
  const r = new ScriptedRunner(clock);
  runner = r;
  await make();
  await sup.spawn(spec({ restart: onFailure() }));
  await settle();
  clock.advance(60_000); // a long, healthy first run
  r.failLaunches = 1;
  r.finish("W1", 1);
  await settle();
  clock.advance(1_000); // the restart's launch fails
  await settle();
  const w = sup.list()[0]!;
  assert.equal(w.state, "backoff");
  assert.equal(w.startedAt, null, "not the previous run's start");
  assert.equal(w.runMs, null);
  assert.match(String(log.records.filter((e) => e.type === "worker.exited").at(-1)!.payload.reason), /could not start: spawn ENOENT/);
  const backoffs = log.records.filter((e) => e.type === "worker.backoff").map((e) => e.payload.counted);
  assert.deepEqual(backoffs, [false, true], "the healthy run's restart is free; the failed launch's counts");
});

test("rm all removes every worker it can and reports each one it cannot", async () => {
  await make();
  for (let i = 0; i < 3; i++) await sup.spawn(spec());
  await settle();
  runner.finish("W1", 0);
  runner.finish("W3", 0);
  await settle();
  const remove = workerMethodGroup(sup).handlers["worker.remove"];
  const r = await remove({ target: "all", force: false }, { connectionId: 1 });
  assert.deepEqual(r.removed, ["W1", "W3"]);
  assert.deepEqual(r.failed?.map((f) => [f.id, f.code]), [["W2", "INVALID_STATE"]]);
  assert.match(r.failed?.[0]?.message ?? "", /W2 is running; stop it first, or use --force/);
  // One named worker still fails with its own error.
  await assert.rejects(Promise.resolve(remove({ target: "W2", force: false }, { connectionId: 1 })), { code: "INVALID_STATE" });
  assert.deepEqual(sup.list().map((w) => w.id), ["W2"]);
});

test("an exit or a launch that lands after shutdown began is dropped, without writing or an unhandled rejection", async () => {
  const closing = new ClosingLog(clock);
  log = closing;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    await make({ maxParallel: 1 });
    await sup.spawn(spec({ restart: onFailure() }));
    await settle();
    await sup.spawn(spec());
    const written = closing.records.length;
    // The exit is queued behind the lock; shutdown begins before it runs, and the log closes.
    runner.finish("W1", 1);
    const closed = sup.close();
    closing.closed = true;
    await closed;
    await settle();
    assert.equal(closing.records.length, written, "nothing recorded after shutdown began");
    assert.deepEqual(unhandled, []);
    assert.equal(clock.pending(), 0, "no backoff armed");
    assert.deepEqual(runner.launched.map((l) => l.workerId), ["W1"], "the next worker was not started");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a run that lasted minUptime or more does not count toward max-restarts; quick failures still go fatal", async () => {
  await make();
  await sup.spawn(spec({ restart: onFailure({ maxRestarts: 2 }) }));
  await settle();
  for (let i = 0; i < 5; i++) {
    clock.advance(30_000); // healthy: exactly minUptimeMs
    runner.finish("W1", 1);
    await settle();
    assert.equal(sup.list()[0]!.state, "backoff", `healthy failure ${i + 1} is restarted`);
    clock.advance(1_000);
    await settle();
  }
  assert.equal(sup.list()[0]!.restarts, 5);
  for (let i = 0; i < 3; i++) {
    runner.finish("W1", 1); // quick failures
    await settle();
    if (sup.list()[0]!.state === "fatal") break;
    clock.advance(120_000);
    await settle();
  }
  const w = sup.list()[0]!;
  assert.equal(w.state, "fatal");
  assert.equal(w.restarts, 7, "two quick restarts, then fatal");
  assert.match(w.reason ?? "", /restarted 2 times .*limit 2/);
});

// ---- fixes: one SIGKILL deadline, exits committed with their follow-up, lost wrappers --------------

test("a second stop with a longer grace does not postpone the SIGKILL; a shorter one brings it forward", async () => {
  await make();
  await sup.spawn(spec({ graceMs: 60_000 }));
  await sup.spawn(spec({ graceMs: 60_000 }));
  await settle();
  await sup.stop("W1", 2_000);
  clock.advance(1_000);
  await sup.stop("W1", 30_000);
  clock.advance(999);
  assert.deepEqual(runner.signals.filter(([id]) => id === "W1"), [["W1", "SIGTERM"], ["W1", "SIGTERM"]]);
  clock.advance(1);
  assert.deepEqual(runner.signals.filter(([id]) => id === "W1").at(-1), ["W1", "SIGKILL"], "2 s after the first stop, as it asked");
  await sup.stop("W2", 30_000);
  clock.advance(1_000);
  await sup.stop("W2", 2_000);
  clock.advance(2_000);
  assert.deepEqual(runner.signals.filter(([id]) => id === "W2").at(-1), ["W2", "SIGKILL"], "the shorter grace, from the stop that asked for it");
  assert.equal(runner.signals.filter(([, sig]) => sig === "SIGKILL").length, 2, "one SIGKILL per worker");
  assert.equal(clock.pending(), 0, "no second kill timer left armed");
});

test("an exit and the decision that follows it (backoff, fatal, a user restart) are one commit", async () => {
  const batches = new BatchLog(clock);
  log = batches;
  await make();
  await sup.spawn(spec({ restart: { ...onFailure({ maxRestarts: 1 }), mode: "always" } }));
  await sup.spawn(spec({ graceMs: 100 }));
  await settle();
  runner.finish("W1", 0);
  await settle();
  assert.equal(sup.list()[0]!.state, "backoff");
  assert.deepEqual(batches.batches.find((b) => b.includes("W1:worker.exited")), ["W1:worker.exited", "W1:worker.backoff"]);
  clock.advance(1_000);
  await settle();
  runner.finish("W1", 1);
  await settle();
  assert.equal(sup.list()[0]!.state, "fatal");
  assert.deepEqual(batches.batches.filter((b) => b.includes("W1:worker.exited")).at(-1), ["W1:worker.exited", "W1:worker.fatal"]);
  await sup.restart("W2");
  runner.finish("W2", null, "SIGTERM");
  await settle();
  assert.deepEqual(batches.batches.find((b) => b.includes("W2:worker.exited")), ["W2:worker.exited", "W2:worker.queued"]);
  assert.equal(sup.list()[1]!.state, "running", "the user restart was carried out");
});

test("a worker whose wrapper was killed outright ends failed with the reason lost, live or adopted", async () => {
  const r = new ScriptedRunner(clock);
  runner = r;
  await make();
  await sup.spawn(spec());
  await settle();
  r.lose("W1");
  await settle();
  const w = sup.list()[0]!;
  assert.equal(w.state, "failed");
  assert.match(w.reason ?? "", /^lost: its wrapper died without recording an exit/);
  sup.close();
  // The same worker found lost when a daemon comes back (the adopt path).
  await log.append([
    { type: "worker.queued", worker: "W2", payload: queuedSpec() },
    { type: "worker.starting", worker: "W2", payload: { attempt: 0 } },
    { type: "worker.started", worker: "W2", payload: { pid: 4242, wrapperPid: 4241, pidStartTime: "7", wrapperStartTime: "7", startedAtMs: clock.now() } },
  ]);
  await restartOver(new ScriptedRunner(clock));
  assert.match(sup.list()[1]!.reason ?? "", /^lost: /);
  assert.equal(sup.list()[1]!.state, "failed");
});
