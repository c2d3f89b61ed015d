// Workers under the real daemon, with real processes: exit codes, crash loops, stops that kill
// whole trees, timeouts, the queue, log rotation and `logs`, and — the point of the wrapper —
// workers that keep running through a kill -9 of the daemon and are taken back afterwards.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLI, cleanup, cpwd, pidAlive, startDaemon, tempHome, testEnv, waitFor, waitGone, withDaemon, type TestDaemon } from "../helpers/daemon.js";
import { fixture, nodeFixture } from "../helpers/fixtures.js";

type View = Record<string, any>;

async function spawnWorker(c: RpcClient, argv: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const { worker } = await c.call("worker.spawn", { argv, cwd: process.cwd(), env: { PATH: process.env.PATH ?? "" }, ...extra } as never);
  return String(worker.id);
}

async function view(c: RpcClient, id: string): Promise<View> {
  return (await c.call("worker.get", { target: id })).workers[0] as View;
}

async function until(c: RpcClient, id: string, pred: (w: View) => boolean, what: string, timeoutMs = 15_000): Promise<View> {
  return waitFor(`${id} ${what}`, async () => {
    const w = await view(c, id);
    return pred(w) ? w : null;
  }, timeoutMs, 25);
}

function events(d: TestDaemon): any[] {
  return readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("workers under the real daemon", () => {
  test("exit 0 ends exited, exit 3 ends failed with its code; state changes are events", () => withDaemon(async (d, c) => {
    const ok = await spawnWorker(c, nodeFixture("exit.js", "0"));
    const bad = await spawnWorker(c, nodeFixture("exit.js", "3"));
    assert.equal((await until(c, ok, (w) => w.state === "exited", "to exit")).exitCode, 0);
    const b = await until(c, bad, (w) => w.state === "failed", "to fail");
    assert.equal(b.exitCode, 3);
    assert.equal(b.signal, null);
    const types = events(d).filter((e) => e.worker === bad).map((e) => e.type);
    assert.deepEqual(types, ["worker.queued", "worker.starting", "worker.started", "worker.exited"]);
    const started = events(d).find((e) => e.worker === bad && e.type === "worker.started");
    assert.ok(started.payload.pid > 0);
    const exited = events(d).find((e) => e.worker === bad && e.type === "worker.exited");
    assert.equal(typeof exited.payload.runMs, "number");
  }));

  test("a crash loop goes fatal after the limit, with backoff delays growing", () => withDaemon(async (d, c) => {
    const id = await spawnWorker(c, nodeFixture("exit.js", "1"), {
      restart: { mode: "on-failure", maxRestarts: 3, windowMs: 60_000, backoffBaseMs: 100, backoffMaxMs: 10_000, minUptimeMs: 30_000 },
    });
    const w = await until(c, id, (x) => x.state === "fatal", "to go fatal");
    assert.equal(w.restarts, 3);
    assert.match(w.reason, /limit 3/);
    const delays = events(d).filter((e) => e.worker === id && e.type === "worker.backoff").map((e) => e.payload.delayMs);
    assert.equal(delays.length, 3);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1], `delays grow: ${delays}`);
    assert.ok(delays[2] > delays[0]);
    const table = cpwd(d.home, ["status"]);
    assert.match(table.stdout, new RegExp(`${id} .*fatal`));
    assert.match(table.stdout, new RegExp(`${id}: restarted 3 times`));
  }));

  test("stop of a tree that ignores SIGTERM: SIGKILL after the grace, nothing of it survives", () => withDaemon(async (d, c) => {
    const pidsFile = join(d.home, "tree.json");
    const id = await spawnWorker(c, nodeFixture("grandchildren.js", pidsFile), { graceMs: 300 });
    await until(c, id, (w) => w.state === "running", "to run");
    // The fixture writes the file in one call, but a read can still land between its open and write.
    const tree = await waitFor("the tree's pids", () => {
      try {
        return JSON.parse(readFileSync(pidsFile, "utf8")) as { self: number; kids: number[] };
      } catch {
        return null;
      }
    });
    const stop = cpwd(d.home, ["stop", id]);
    assert.equal(stop.code, 0, stop.stderr);
    const w = await until(c, id, (x) => x.state === "stopped", "to stop");
    assert.equal(w.signal, "SIGKILL");
    await waitFor("every process of the tree to be gone", () => [tree.self, ...tree.kids].every((p) => !pidAlive(p)), 5_000);
  }));

  test("a worker past its timeout ends timed_out", () => withDaemon(async (d, c) => {
    const id = await spawnWorker(c, nodeFixture("ignore-sigterm.js"), { timeoutMs: 500, graceMs: 200 });
    const w = await until(c, id, (x) => x.state === "timed_out", "to time out");
    assert.equal(w.timedOut, true);
    assert.ok(events(d).some((e) => e.worker === id && e.type === "worker.timeout"));
  }));

  test("with maxParallel 2, six workers never run more than two at once, and start in order", () => withDaemon({ config: { maxParallel: 2 } }, async (d, c) => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await spawnWorker(c, nodeFixture("sleep.js", "300")));
    let maxRunning = 0;
    await waitFor("all six to exit", async () => {
      const { workers } = await c.call("worker.list");
      maxRunning = Math.max(maxRunning, workers.filter((w) => ["starting", "running", "stopping"].includes(String(w.state))).length);
      return workers.every((w) => w.state === "exited");
    }, 20_000, 10);
    assert.ok(maxRunning <= 2, `at most 2 ran at once (saw ${maxRunning})`);
    const starts = events(d).filter((e) => e.type === "worker.starting").map((e) => e.worker);
    assert.deepEqual(starts, ids);
  }));

  test("a chatty worker's log is rotated: at most N old files, the live one bounded", () => withDaemon({ config: { logMaxBytes: 64 * 1024, logFiles: 2 } }, async (d, c) => {
    const id = await spawnWorker(c, ["/bin/sh", "-c", `i=0; while [ $i -lt 6 ]; do ${JSON.stringify(process.execPath)} ${JSON.stringify(fixture("chatty.js"))} 100; sleep 1; i=$((i+1)); done`]);
    await until(c, id, (w) => w.state === "exited", "to finish", 30_000);
    // The last check after the end runs in the background (a `.rotating` file while it copies):
    // wait for the folder to settle on the live files and two copies.
    const dir = join(d.paths.workers, id, "logs");
    // output.log (both streams, time-stamped, by the output mux) is rotated the same way.
    const expected = ["output.log", "output.log.1", "output.log.2", "stderr.log", "stdout.log", "stdout.log.1", "stdout.log.2"];
    await waitFor("the logs to settle", () => JSON.stringify(readdirSync(dir).sort()) === JSON.stringify(expected), 15_000);
    const logs = readdirSync(dir).sort();
    for (const f of logs) assert.ok(readFileSync(join(d.paths.workers, id, "logs", f)).length <= 300 * 1024, `${f} is bounded`);
  }));

  test("a worker printing at disk speed leaves its logs bounded by the limit once it ends", async () => {
    const maxBytes = 64 * 1024;
    await withDaemon({ config: { logMaxBytes: maxBytes, logFiles: 2 } }, async (d, c) => {
      // `yes` under a deadline, as the reviewer ran it (`cpwd spawn --timeout … -- yes`).
      const id = await spawnWorker(c, ["yes"], { timeoutMs: 1_500, graceMs: 200 });
      await until(c, id, (w) => w.state === "timed_out", "to time out", 30_000);
      const logs = join(d.paths.workers, id, "logs");
      // A copy may be renamed between the listing and its stat: count what is there.
      const sizeOf = (f: string) => {
        try {
          return statSync(join(logs, f)).size;
        } catch {
          return 0;
        }
      };
      const total = () => readdirSync(logs).reduce((a, f) => a + sizeOf(f), 0);
      // The last check after the end runs in the background. The bound: the live file within the
      // limit, and each of the 2 rotated copies within 2 × the limit (plus a line saying what was
      // dropped when the file had grown further).
      const copyMax = 2 * maxBytes + 256;
      // Two streams that grow (stdout.log, and output.log with both streams), each so bounded.
      const settled = () => !readdirSync(logs).some((f) => f.endsWith(".rotating")) && total() <= 2 * (maxBytes + 2 * copyMax);
      await waitFor("the logs folder to come under its bound", settled, 15_000);
      assert.ok(statSync(join(logs, "stdout.log.1")).size <= copyMax, "a rotated copy keeps at most 2 × logMaxBytes");
      assert.ok(statSync(join(logs, "output.log.1")).size <= copyMax, "so does output.log's");
      assert.deepEqual(readdirSync(logs).sort(), ["output.log", "output.log.1", "output.log.2", "stderr.log", "stdout.log", "stdout.log.1", "stdout.log.2"]);
      assert.equal((await c.call("status")).daemon.pid, d.pid, "the daemon answered throughout");
    });
  });

  test("logs prints the output; logs -f follows until the worker ends", () => withDaemon(async (d, c) => {
    const id = await spawnWorker(c, ["/bin/sh", "-c", "echo one; echo err >&2; sleep 0.5; echo two; sleep 0.5; echo three"], { name: "talker" });
    const follow = spawn(process.execPath, [CLI, "logs", "talker", "-f", "--both"], { env: testEnv(d.home) });
    let out = "";
    let err = "";
    follow.stdout.on("data", (b: Buffer) => (out += b.toString()));
    follow.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const code = await new Promise((r) => follow.once("exit", r));
    assert.equal(code, 0);
    assert.equal(out, "one\ntwo\nthree\n");
    // cpwd's own lines (a start, the end) come on stderr too, after "cpwd logs:".
    assert.equal(err.split("\n").filter((l) => !l.startsWith("cpwd logs: ")).join("\n"), "err\n");
    assert.match(err, /cpwd logs: W\d+ \(talker\) ended: exit 0\n$/);
    const last = cpwd(d.home, ["logs", id, "-n", "1"]);
    assert.equal(last.stdout, "three\n");
  }));

  test("logs -f follows a worker with --restart always through its restarts, until it goes fatal", () => withDaemon(async (d, c) => {
    // Each run prints "run"; the first waits until the follower is attached, the later ones end at
    // once: the order is made, not timed.
    const gate = join(d.home, "release");
    const id = await spawnWorker(c, ["/bin/sh", "-c", `echo run; while [ ! -e ${gate} ]; do sleep 0.05; done`], {
      name: "again",
      restart: { mode: "always", maxRestarts: 2, windowMs: 60_000, backoffBaseMs: 100, backoffMaxMs: 100, minUptimeMs: 30_000 },
    });
    await waitFor("the first run's output", () => existsSync(join(d.paths.workers, id, "logs", "stdout.log")) && readFileSync(join(d.paths.workers, id, "logs", "stdout.log"), "utf8") === "run\n");
    const follow = spawn(process.execPath, [CLI, "logs", "again", "-f", "-n", "1"], { env: testEnv(d.home) });
    let out = "";
    follow.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const ended = new Promise((r) => follow.once("exit", r));
    await waitFor("the follower to attach", () => out === "run\n");
    writeFileSync(gate, "");
    assert.equal(await ended, 7, "fatal");
    assert.equal((await view(c, id)).state, "fatal", "it quit only once the worker was done for good");
    assert.equal(out, "run\nrun\nrun\n", "the later runs' output was followed");
    const exits = events(d).filter((e) => e.worker === id && e.type === "worker.exited");
    assert.equal(exits.length, 3);
  }));

  test("the CLI: spawn uses the caller's env plus --env, argv is literal, bad flags are clear errors", () => withDaemon(async (d, c) => {
    const r = cpwd(d.home, ["spawn", "--name", "envy", "--env", "CPWD_X=from-flag", "--", process.execPath, fixture("env.js"), "a b", "$HOME"], { CPWD_TEST_SHOW: "CPWD_X,CPWD_Y,CPWD_WORKER_ID", CPWD_Y: "from-caller" });
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^W\d+$/);
    await until(c, id, (w) => w.state === "exited", "to exit");
    const out = JSON.parse(readFileSync(join(d.paths.workers, id, "logs", "stdout.log"), "utf8"));
    assert.deepEqual(out.argv, ["a b", "$HOME"]);
    assert.deepEqual(out.env, { CPWD_X: "from-flag", CPWD_Y: "from-caller", CPWD_WORKER_ID: id });
    for (const bad of [["spawn", "--restart", "sometimes", "--", "x"], ["spawn", "--timeout", "soon", "--", "x"], ["spawn", "--backoff", "9s..1s", "--", "x"], ["spawn"]]) {
      const e = cpwd(d.home, bad);
      assert.equal(e.code, 2, bad.join(" "));
      assert.match(e.stderr, /cpwd spawn: /);
    }
    const missing = cpwd(d.home, ["stop", "W999"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no worker W999/);
  }));
});

describe("targets and names", () => {
  test("names that read as targets (all, W7) are refused at spawn, naming the field", () => withDaemon(async (d, c) => {
    for (const name of ["all", "W7"]) {
      await assert.rejects(spawnWorker(c, nodeFixture("exit.js", "0"), { name }), (err: any) => {
        assert.equal(err.code, "INVALID_PARAMS");
        assert.match(err.message, /name: is reserved \('all' and ids like W7 already name targets\)/);
        return true;
      });
    }
    assert.ok(await spawnWorker(c, nodeFixture("exit.js", "0"), { name: "W7b" }), "a name that only starts like an id is fine");
    const cli = cpwd(d.home, ["spawn", "--name", "all", "--", "true"]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /^cpwd spawn: --name 'all' is reserved \('all' and ids like W7 already name targets\)\nusage: cpwd spawn/);
  }));

  test("rm all removes every worker it can and names each one it cannot", () => withDaemon(async (d, c) => {
    const a = await spawnWorker(c, nodeFixture("exit.js", "0"));
    const running = await spawnWorker(c, nodeFixture("sleep.js", "60000"), { graceMs: 100 });
    const b = await spawnWorker(c, nodeFixture("exit.js", "0"));
    await until(c, a, (w) => w.state === "exited", "to exit");
    await until(c, b, (w) => w.state === "exited", "to exit");
    await until(c, running, (w) => w.state === "running", "to run");
    const r = cpwd(d.home, ["rm", "all"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `removed ${a}\nremoved ${b}\n`);
    assert.match(r.stderr, new RegExp(`cpwd rm ${running}: ${running} is running; stop it first, or use --force`));
    const { workers } = await c.call("worker.list");
    assert.deepEqual(workers.map((w) => w.id), [running]);
    assert.equal(cpwd(d.home, ["rm", "all", "--force"]).code, 0);
  }));
});

describe("workers outlive the daemon", () => {
  test("adopting a running worker with no recorded start takes its start time from run.json and the OS", async () => {
    const home = tempHome();
    const runner = new ProcessRunner({ home });
    const dir = join(home, "workers", "W1");
    let handle: Awaited<ReturnType<ProcessRunner["launch"]>> | undefined;
    try {
      handle = await runner.launch({ workerId: "W1", argv: nodeFixture("sleep.js", "60000"), cwd: home, env: { PATH: process.env.PATH ?? "" }, dir, timeoutMs: null, graceMs: 100, launch: 1 });
      await waitFor("run.json", () => existsSync(join(dir, "run.json")));
      // The daemon died after worker.starting: nothing about this run was recorded.
      const r = await runner.adopt("W1", dir, null);
      assert.equal(r.kind, "running");
      const h = r.kind === "running" ? r.handle : undefined;
      assert.equal(h?.pid, handle.pid);
      assert.equal(h?.startedAtMs, Math.round(statSync(join(dir, "run.json")).mtimeMs));
      assert.equal(h?.wrapperStartTime, handle.wrapperStartTime, "recorded now, so a later adoption can check it");
      assert.equal(h?.pidStartTime, handle.pidStartTime);
    } finally {
      runner.close();
      if (handle) for (const pid of [-handle.pid, handle.wrapperPid]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("kill -9 of the daemon while workers run: they are not interrupted, their ends are learned, ids are not reused", async () => {
    let d: TestDaemon | undefined = await startDaemon();
    const home = d.home;
    try {
      let c = await d.client();
      // Each worker runs until the test releases it: the order is made, not timed.
      const gate = (name: string) => `while [ ! -e ${join(home, name)} ]; do sleep 0.05; done`;
      const long = await spawnWorker(c, ["/bin/sh", "-c", gate("release-long")]);
      const endsWhileDown = await spawnWorker(c, ["/bin/sh", "-c", `${gate("release-short")}; exit 7`]);
      const failsWhileDown = await spawnWorker(c, ["/bin/sh", "-c", `${gate("release-short")}; exit 5`], {
        restart: { mode: "on-failure", maxRestarts: 1, windowMs: 60_000, backoffBaseMs: 100, backoffMaxMs: 100, minUptimeMs: 30_000 },
      });
      const w1 = await until(c, long, (w) => w.state === "running", "to run");
      await until(c, endsWhileDown, (w) => w.state === "running", "to run");
      await until(c, failsWhileDown, (w) => w.state === "running", "to run");
      c.close();
      await d.kill9();
      await waitGone(d.pid);
      assert.ok(pidAlive(w1.pid), "the worker kept running without its daemon");
      // The short ones end while no daemon runs: their wrappers record how.
      writeFileSync(join(home, "release-short"), "");
      await waitFor("the short workers to end while the daemon is down", () =>
        [endsWhileDown, failsWhileDown].every((id) => existsSync(join(home, "workers", id, "exit.json"))),
      );
      d = await startDaemon(home);
      c = await d.client();
      const again = await view(c, long);
      assert.equal(again.state, "running");
      assert.equal(again.pid, w1.pid, "the same process, never restarted");
      assert.equal((await until(c, endsWhileDown, (w) => w.state === "failed", "to be learned failed")).exitCode, 7);
      // Its policy is applied on the way back: one restart, then fatal.
      await until(c, failsWhileDown, (w) => w.state === "fatal", "to go fatal");
      writeFileSync(join(home, "release-long"), "");
      assert.equal((await until(c, long, (w) => w.state === "exited", "to exit 0")).exitCode, 0);
      const fresh = await spawnWorker(c, nodeFixture("exit.js", "0"));
      assert.equal(fresh, "W4");
      c.close();
      const starts = events(d).filter((e) => e.worker === long && e.type === "worker.started");
      assert.equal(starts.length, 1, "started once, ever");
      const replay = cpwd(home, ["replay", "--json"]);
      const table = JSON.parse(replay.stdout);
      assert.deepEqual(table.workers.map((w: View) => [w.id, w.state]).slice(0, 3), [[long, "exited"], [endsWhileDown, "failed"], [failsWhileDown, "fatal"]]);
      const early = JSON.parse(cpwd(home, ["replay", "--json", "--at", String(starts[0].seq)]).stdout);
      assert.equal(early.workers[0].state, "running");
    } finally {
      await cleanup(d, home);
    }
  });
});
