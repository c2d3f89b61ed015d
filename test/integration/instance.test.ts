// One daemon per home, under stress: a stopped (hung) daemon keeps its lock however long it sleeps,
// a daemon whose lock is taken from it exits at once without touching what is no longer its own,
// and starters racing after a kill -9 leave exactly one daemon and a log whose seq never repeats.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { probeDaemon } from "../../src/rpc/probe.js";
import { CLI, cleanup, cpwd, pidAlive, startDaemon, testEnv, waitGone } from "../helpers/daemon.js";

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

test("a stopped daemon keeps its lock past proper-lockfile's stale time: later starts refuse and name it", async () => {
  const d = await startDaemon();
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
    await cleanup(d);
  }
});

test("a daemon whose lock is taken from it exits at once, appends nothing more, and leaves a socket that is not its own", async () => {
  const d = await startDaemon();
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
    await cleanup(d);
  }
});

test("starters racing after a kill -9 leave exactly one daemon; the others exit naming it; seq never repeats", { timeout: 180_000 }, async () => {
  const d = await startDaemon();
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
    await cleanup(undefined, home);
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
});
