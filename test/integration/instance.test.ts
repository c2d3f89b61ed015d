// One daemon per home, under stress: a stopped (hung) daemon keeps its lock however long it sleeps,
// a daemon whose lock is taken from it exits at once without touching what is no longer its own,
// starters racing after a kill -9 leave exactly one daemon and a log whose seq never repeats, a
// starter stalled mid-lock never disturbs the daemon that took over, and a pid reused by a later
// process does not keep an old-format lock held.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { probeDaemon } from "../../src/rpc/probe.js";
import { CLI, cleanup, cpwd, pathsFor, pidAlive, startDaemon, tempHome, testEnv, waitFor, waitGone, withDaemon, type TestDaemon } from "../helpers/daemon.js";

function readLog(file: string) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { seq: number; type: string; payload: Record<string, unknown> });
}

function assertStrictlyIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i - 1]} is followed by ${seqs[i]}`);
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a stopped daemon keeps its lock past proper-lockfile's stale time: later starts refuse and name it", () => withDaemon(async (d) => {
  let intruder: number | undefined;
  try {
    process.kill(d.pid, "SIGSTOP");
    await sleep(10_500); // longer than the 10 s after which proper-lockfile alone calls a lock stale

    const second = cpwd(d.home, ["daemon"]);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`already running.*pid ${d.pid}`));
    const started = cpwd(d.home, ["start"]);
    intruder = Number(/daemon started \(pid (\d+)\)/.exec(started.stdout)?.[1] ?? 0) || undefined;
    assert.equal(started.code, 1, started.stdout);
    assert.match(started.stderr, new RegExp(`pid ${d.pid}`));

    process.kill(d.pid, "SIGCONT");
    const c = await d.client();
    assert.equal((await c.call("ping")).pid, d.pid);
    c.close();
    await d.stop();
    assert.equal(await d.exited, 0);
    assert.doesNotMatch(readFileSync(d.paths.daemonLog, "utf8"), /compromised/);
    const events = readLog(d.paths.events);
    assertStrictlyIncreasing(events.map((e) => e.seq));
    assert.equal(events.filter((e) => e.type === "daemon.started").length, 1);
    assert.equal(events.filter((e) => e.type === "daemon.stopped").length, 1);
  } finally {
    killQuietly(d.pid, "SIGCONT");
    killQuietly(intruder);
  }
}));

test("a daemon whose lock is taken from it exits at once, appends nothing more, and leaves a socket that is not its own", () => withDaemon(async (d) => {
  let successor: Server | undefined;
  try {
    const lockDir = `${d.paths.events}.lock`;
    const before = readFileSync(d.paths.events, "utf8");
    // What a successor would do: its own lock folder and its own socket file at the same paths.
    renameSync(lockDir, `${lockDir}.taken`);
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, "owner.json"), JSON.stringify({ pid: process.pid, startTime: null }));
    unlinkSync(d.paths.socket);
    const s = createServer();
    successor = s;
    await new Promise<void>((resolve) => s.listen(d.paths.socket, resolve));
    const ours = statSync(d.paths.socket);

    assert.equal(await d.exited, 75);
    assert.equal(readFileSync(d.paths.events, "utf8"), before, "no event appended after the lock was lost");
    const now = statSync(d.paths.socket);
    assert.deepEqual([now.dev, now.ino], [ours.dev, ours.ino], "the successor's socket file is untouched");
    assert.match(readFileSync(d.paths.daemonLog, "utf8"), /lock compromised/);
  } finally {
    await new Promise<void>((resolve) => (successor ? successor.close(() => resolve()) : resolve()));
  }
}));

test("starters racing after a kill -9 leave exactly one daemon; the others exit naming it; seq never repeats", { timeout: 180_000 }, () => withDaemon(async (d) => {
  const home = d.home;
  const paths = d.paths;
  const racers: ChildProcess[] = [];
  let winner: number | undefined;
  const rounds = 3;
  try {
    await d.kill9();
    for (let round = 0; round < rounds; round++) {
      const batch = Array.from({ length: 6 }, () => {
        const p = spawn(process.execPath, [CLI, "daemon"], { env: testEnv(home), stdio: ["ignore", "ignore", "pipe"], detached: true });
        let stderr = "";
        p.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
        return { p, exited, stderr: () => stderr };
      });
      racers.push(...batch.map((r) => r.p));
      const codes = await Promise.all(batch.map(async (r) => ({ r, code: await outcome(r.p, r.exited) })));
      const running = codes.filter((x) => x.code === "running");
      assert.equal(running.length, 1, `round ${round}: one daemon runs (exits: ${codes.map((x) => x.code).join(", ")})`);
      winner = running[0]!.r.p.pid!;
      const answered = await probeDaemon(paths.socket, 2_000);
      assert.equal(answered?.pid, winner, `round ${round}: the survivor answers ping on the socket`);
      for (const { r, code } of codes) {
        if (r.p.pid === winner) continue;
        assert.equal(code, 1, `round ${round}: a loser exits non-zero`);
        assert.match(r.stderr(), new RegExp(`already running.*pid ${winner}`), `round ${round}: a loser names the winner`);
      }
      assert.ok(pidAlive(winner), `round ${round}: the survivor is still running`);
      if (round < rounds - 1) {
        process.kill(winner, "SIGKILL");
        await waitGone(winner);
      }
    }
    process.kill(winner!, "SIGTERM");
    await waitGone(winner!);
    const events = readLog(paths.events);
    assertStrictlyIncreasing(events.map((e) => e.seq));
    assert.equal(events.filter((e) => e.type === "daemon.started").length, 1 + rounds);
  } finally {
    for (const p of racers) killQuietly(p.pid);
  }

  /** "running" once this racer answers ping as the daemon, or its exit code once it exits. */
  async function outcome(p: ChildProcess, exited: Promise<number | null>): Promise<"running" | number | null> {
    let code: number | null | undefined;
    void exited.then((c) => (code = c));
    for (;;) {
      if (code !== undefined) return code;
      if ((await probeDaemon(paths.socket, 200))?.pid === p.pid) return "running";
      await sleep(50);
    }
  }
}));

/** True once the process is stopped (SIGSTOP): state T in ps. */
function isStopped(pid: number): boolean {
  try {
    return execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim().startsWith("T");
  } catch {
    return false;
  }
}

test("a starter stalled between making the lock folder and recording itself in it never disturbs the daemon that took over meanwhile", async () => {
  const home = tempHome();
  const paths = pathsFor(home);
  let stalled: ChildProcess | undefined;
  let d: TestDaemon | undefined;
  try {
    // Starter A stops itself right after its mkdir (the test hook), before writing owner.json.
    stalled = spawn(process.execPath, [CLI, "daemon"], {
      env: testEnv(home, { CPWD_TEST_STOP_AFTER_LOCK_MKDIR: "1" }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    stalled.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const stalledExit = new Promise<number | null>((resolve) => stalled!.once("exit", (code) => resolve(code)));
    await waitFor("starter A to stop after its mkdir", () => isStopped(stalled!.pid!));

    // Starter B waits out the grace for an ownerless folder, takes over and serves.
    d = await startDaemon(home);
    const lockDir = `${paths.events}.lock`;
    const ownerBefore = readFileSync(join(lockDir, "owner.json"), "utf8");
    assert.equal((JSON.parse(ownerBefore) as { pid: number }).pid, d.pid);

    // A resumes: its record cannot be created in B's folder, so it backs off and removes nothing.
    process.kill(stalled.pid!, "SIGCONT");
    assert.equal(await stalledExit, 1);
    assert.match(stderr, new RegExp(`already running.*pid ${d.pid}`));
    assert.equal(readFileSync(join(lockDir, "owner.json"), "utf8"), ownerBefore, "B's owner record is untouched");

    await sleep(2_500); // past B's lock update interval: B would notice a lock that is no longer its own
    assert.ok(pidAlive(d.pid), "B still runs");
    assert.equal((await probeDaemon(paths.socket, 2_000))?.pid, d.pid, "B still answers");
    await d.stop();
    assert.equal(await d.exited, 0);
  } finally {
    killQuietly(stalled?.pid);
    await cleanup(d, home);
  }
});

test("an old-format lock whose daemon.pid names a pid now used by a process started later does not block starting", { skip: process.platform !== "linux" }, async () => {
  const home = tempHome();
  const paths = pathsFor(home);
  let d: TestDaemon | undefined;
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(paths.events, "");
    mkdirSync(`${paths.events}.lock`); // no owner.json: as a cpwd before owner records left it
    // This test's own process stands in for whatever runs under the recorded pid.
    const record = (startedAt: Date) => `${JSON.stringify({ pid: process.pid, startedAt: startedAt.toISOString(), socket: paths.socket })}\n`;

    // Recorded after this process started: it may be that daemon, hung. Starting refuses.
    writeFileSync(paths.pidFile, record(new Date()));
    const refused = cpwd(home, ["daemon"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`already running.*pid ${process.pid}.*does not answer`));

    // Recorded an hour before this process started: the pid has been reused. Starting succeeds.
    writeFileSync(paths.pidFile, record(new Date(Date.now() - 3_600_000)));
    d = await startDaemon(home);
    assert.equal((await probeDaemon(paths.socket, 2_000))?.pid, d.pid);
  } finally {
    await cleanup(d, home);
  }
});
