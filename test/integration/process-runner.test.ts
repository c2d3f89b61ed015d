// The local process runner with real processes: exit codes, argv and env passed literally, logs,
// deadlines that kill whole trees, and a wrapper that outlives the process that started it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import { isAlive } from "../../daemon/runner/proc.js";
import type { ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { waitFor } from "../helpers/daemon.js";
import { nodeFixture } from "../helpers/fixtures.js";

let home: string;
let runner: ProcessRunner;
const started: WorkerHandle[] = [];
let n = 0;

before(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-runner-"));
  runner = new ProcessRunner({ home, livenessCheckMs: 500 });
});
after(() => {
  runner.close();
  for (const h of started) {
    for (const pid of [h.pid, h.wrapperPid]) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  rmSync(home, { recursive: true, force: true });
});

function spec(argv: string[], over: Partial<LaunchSpec> = {}): LaunchSpec {
  const id = `W${++n}`;
  return { workerId: id, argv, cwd: home, env: { PATH: process.env.PATH ?? "" }, dir: join(home, "workers", id), timeoutMs: null, graceMs: 500, ...over };
}

async function runToEnd(s: LaunchSpec): Promise<{ handle: WorkerHandle; exit: ExitStatus }> {
  const handle = await runner.launch(s);
  started.push(handle);
  const exit = await new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
  return { handle, exit };
}

describe("the process runner", () => {
  test("exit codes 0 and 3 are recorded and delivered", async () => {
    assert.deepEqual((await runToEnd(spec(nodeFixture("exit.js", "0")))).exit.code, 0);
    const three = await runToEnd(spec(nodeFixture("exit.js", "3")));
    assert.equal(three.exit.code, 3);
    assert.equal(three.exit.signal, null);
    assert.equal(three.exit.timedOut, false);
  });

  test("argv with spaces and shell metacharacters arrives literally; env is exactly the given one", async () => {
    const s = spec(nodeFixture("env.js", "a b", "$HOME", "; rm -rf /", "*", "`x`"), {
      env: { PATH: process.env.PATH ?? "", CPWD_TEST_SHOW: "CPWD_X,HOME", CPWD_X: "1" },
    });
    await runToEnd(s);
    const out = JSON.parse(readFileSync(join(s.dir, "logs", "stdout.log"), "utf8"));
    assert.deepEqual(out.argv, ["a b", "$HOME", "; rm -rf /", "*", "`x`"]);
    assert.deepEqual(out.env, { CPWD_X: "1", HOME: null });
    assert.equal(out.cwd, home);
  });

  test("a deadline ends a tree that ignores SIGTERM: SIGKILL after the grace, nothing survives", async () => {
    const pidsFile = join(home, "tree.json");
    const s = spec(nodeFixture("grandchildren.js", pidsFile), { timeoutMs: 600, graceMs: 300 });
    const t0 = Date.now();
    const { exit } = await runToEnd(s);
    assert.equal(exit.timedOut, true);
    assert.equal(exit.signal, "SIGKILL");
    assert.ok(Date.now() - t0 >= 800);
    const tree = JSON.parse(readFileSync(pidsFile, "utf8")) as { self: number; kids: number[] };
    await waitFor("the whole tree to be gone", () => [tree.self, ...tree.kids].every((p) => !isAlive(p)), 5_000);
  });

  test("a worker that ends before its deadline keeps its own exit code, and the deadline's sleep goes with the wrapper", async () => {
    const s = spec(["/bin/sh", "-c", "sleep 0.5; exit 3"], { timeoutMs: 60_000, graceMs: 300 });
    const handle = await runner.launch(s);
    started.push(handle);
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    const cmdline = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8");
      } catch {
        return "";
      }
    };
    // Wait past the wrapper's start-up (its short-lived `$(…)` subshells are children too).
    const helpers = await waitFor("the deadline's sleep", () => {
      const kids = readFileSync(`/proc/${handle.wrapperPid}/task/${handle.wrapperPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      const others = kids.filter((p) => p !== handle.pid);
      return others.length > 0 && others.every((p) => cmdline(p).startsWith("sleep\x00")) ? others : null;
    });
    assert.equal(helpers.length, 1, "one helper process for the deadline, no timer shell");
    assert.match(cmdline(helpers[0]!), /^sleep\x0060\.000/);
    const exit = await ended;
    assert.deepEqual([exit.code, exit.signal, exit.timedOut], [3, null, false]);
    await waitFor("the deadline's sleep to be gone", () => !isAlive(helpers[0]!), 5_000);
  });

  test("signal() stops the group; stdout and stderr land in their log files", async () => {
    const s = spec(nodeFixture("forever.js"));
    const handle = await runner.launch(s);
    started.push(handle);
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
    runner.signal(handle, "SIGTERM");
    const exit = await ended;
    assert.equal(exit.signal, "SIGTERM");
    assert.equal(exit.timedOut, false);
  });

  test("a missing working directory is refused before anything starts", async () => {
    await assert.rejects(runner.launch(spec(nodeFixture("exit.js"), { cwd: join(home, "nope") })), /does not exist/);
  });

  test("the wrapper outlives the process that launched it, and a new runner adopts it", async () => {
    const s = spec(nodeFixture("sleep.js", "1500"));
    const script = `
      import { ProcessRunner } from ${JSON.stringify(new URL("../../daemon/runner/process-runner.ts", import.meta.url).pathname)};
      const r = new ProcessRunner({ home: ${JSON.stringify(home)} });
      const h = await r.launch(${JSON.stringify(s)});
      console.log(JSON.stringify(h));
      process.kill(process.pid, "SIGKILL");`;
    const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    parent.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await new Promise((r) => parent.once("exit", r));
    const handle = JSON.parse(out.trim()) as WorkerHandle;
    started.push(handle);
    assert.ok(isAlive(handle.wrapperPid), "the wrapper survived its parent's SIGKILL");
    const adopted = await runner.adopt(s.workerId, s.dir, handle);
    assert.equal(adopted.kind, "running");
    const exit = await new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    assert.equal(exit.code, 0);
    // A recorded start time that no longer matches means the pid is someone else's now.
    const stale = await runner.adopt(s.workerId, s.dir, { ...handle, wrapperStartTime: "0" });
    assert.equal(stale.kind, "exited", "exit.json wins once written");
  });

  test("a wrapper killed outright is reported as lost, not hung", async () => {
    const s = spec(nodeFixture("forever.js"));
    const handle = await runner.launch(s);
    started.push(handle);
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    process.kill(handle.wrapperPid, "SIGKILL");
    // Through the runner: right after launch the worker may not have made its group yet.
    runner.signal(handle, "SIGKILL");
    const exit = await ended;
    assert.deepEqual([exit.code, exit.signal], [null, null]);
    assert.equal((await runner.adopt(s.workerId, s.dir, handle)).kind, "lost");
  });

  test("a wrapper killed outright takes its worker's group along (live), reported as lost", async () => {
    const s = spec(nodeFixture("forever.js"));
    const handle = await runner.launch(s);
    started.push(handle);
    await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    process.kill(handle.wrapperPid, "SIGKILL");
    const exit = await ended;
    assert.equal(exit.lost, true);
    await waitFor("the orphaned worker to be killed", () => !isAlive(handle.pid), 5_000);
  });

  test("a wrapper found dead at adoption: the worker still ours is killed; a pid not ours is left alone", async () => {
    const s = spec(nodeFixture("forever.js"));
    const handle = await runner.launch(s);
    started.push(handle);
    await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
    process.kill(handle.wrapperPid, "SIGKILL");
    await waitFor("the wrapper to die", () => !isAlive(handle.wrapperPid));
    // A start time that does not match: the pid may be someone else's now, so nothing is killed.
    assert.equal((await runner.adopt(s.workerId, s.dir, { ...handle, pidStartTime: "0" })).kind, "lost");
    assert.ok(isAlive(handle.pid), "not killed on a start time that does not match");
    assert.equal((await runner.adopt(s.workerId, s.dir, handle)).kind, "lost");
    await waitFor("the orphaned worker to be killed", () => !isAlive(handle.pid), 5_000);
  });

  test("the wrapper's memory: at most 5 MiB RSS per worker", async () => {
    const s = spec(nodeFixture("forever.js"), { timeoutMs: 60_000 });
    const handle = await runner.launch(s);
    started.push(handle);
    await waitFor("run.json", () => readFileSync(join(s.dir, "run.json"), "utf8").length > 0);
    const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    // The wrapper sh plus its deadline timer (one `sleep`, a child of the wrapper).
    const timerPids = readFileSync(`/proc/${handle.wrapperPid}/task/${handle.wrapperPid}/children`, "utf8").trim().split(/\s+/).map(Number).filter((p) => p !== handle.pid);
    const helpers = timerPids.flatMap((p) => [p, ...readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)]);
    const total = [handle.wrapperPid, ...helpers].reduce((a, p) => a + rssKiB(p), 0);
    assert.ok(total > 0 && total <= 5 * 1024, `wrapper RSS ${total} KiB`);
    runner.signal(handle, "SIGKILL");
  });
});
