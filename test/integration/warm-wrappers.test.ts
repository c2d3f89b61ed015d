// Wrappers started ahead (daemon/runner/warm-wrappers.ts) with real processes: the worker gets
// exactly the environment (PWD as a cold start gives it), cwd and argv a cold start gives, in a
// session and group of its own, and no value of its environment is ever in a process's arguments;
// what a shell cannot export, or a warm wrapper gone, starts cold; an idle warm wrapper ends with
// its runner, closed or killed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import type { ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { launchText, type WarmLaunch } from "../../daemon/runner/warm-wrappers.js";
import { killStockRuns, REPO, waitFor } from "../helpers/daemon.js";
import { killAll } from "../helpers/kill.js";

let home: string;
const handles: WorkerHandle[] = [];
const runners: ProcessRunner[] = [];
let n = 0;

before(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-warm-"));
});
after(() => {
  for (const r of runners) r.close();
  killAll(handles.flatMap((h) => [-h.pid, -h.wrapperPid]));
  // Retried: the stock run killed in the last test may finish the mkdir it was in.
  rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
});

function newRunner(over: { warmWrappers?: number; setsid?: string } = {}): ProcessRunner {
  const r = new ProcessRunner({ home, livenessCheckMs: 500, warmWrappers: 1, ...over });
  runners.push(r);
  return r;
}

/** A worker (node) that writes its whole environment, cwd and argv (after node's "--") as JSON to stdout. */
function reporter(...args: string[]): string[] {
  return [process.execPath, "-e", "process.stdout.write(JSON.stringify({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(1) }))", "--", ...args];
}

function spec(argv: string[], over: Partial<LaunchSpec> = {}): LaunchSpec {
  const id = `W${++n}`;
  return { workerId: id, argv, cwd: home, env: { PATH: process.env.PATH ?? "" }, dir: join(home, "workers", id), timeoutMs: null, graceMs: 500, launch: 1, ...over };
}

async function runToEnd(r: ProcessRunner, s: LaunchSpec): Promise<{ handle: WorkerHandle; exit: ExitStatus; out: string }> {
  const handle = await r.launch(s);
  handles.push(handle);
  const exit = await new Promise<ExitStatus>((resolve) => r.watchExit(handle, s.dir, resolve));
  return { handle, exit, out: readFileSync(join(s.dir, "logs", "stdout.log"), "utf8") };
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The idle warm wrappers whose parent is `parent`. */
function warmChildren(parent: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.filter((pid) => cmdline(pid).includes("--warm"));
}

function statField(pid: number, index: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[index]);
}

describe("warm wrappers", { skip: process.platform !== "linux" }, () => {
  test("the launch's text refuses what a shell cannot export, an argv[0] setsid would take for an option, and NUL", () => {
    const base: WarmLaunch = { dir: "/d", timeoutMs: 0, graceMs: 1, timer: "chld", perl: "-", mux: "-", launch: 1, setsid: "/usr/bin/setsid", cwd: "/", env: { A: "1" }, argv: ["sleep", "1"] };
    assert.match(launchText(base)!, /\nready=1\n$/);
    assert.notEqual(launchText({ ...base, argv: ["a=b"] }), null);
    assert.equal(launchText({ ...base, argv: ["-x"] }), null);
    for (const name of ["", "A-B", "1A", "a.b", "ž"]) assert.equal(launchText({ ...base, env: { [name]: "1" } }), null, name);
    assert.equal(launchText({ ...base, env: { A: "x\0y" } }), null);
    assert.equal(launchText({ ...base, argv: ["sleep", "a\0"] }), null);
  });

  test("a warm launch gives the worker what a cold one does: its environment (PWD as cold gives it), cwd and argv, exactly", async () => {
    const warm = newRunner();
    const cold = newRunner({ warmWrappers: 0 });
    const cwd = join(home, "a dir with 'quotes' and $x");
    mkdirSync(cwd);
    const link = join(home, "a link to it");
    symlinkSync(cwd, link);
    const base = {
      PATH: process.env.PATH ?? "",
      QUOTES: "it's \"quoted\" `x` $(y) \\ back",
      LINES: "one\ntwo\n",
      EMPTY: "",
      UNICODE: "žluťoučký 🐎",
      OLDPWD: "/somewhere",
    };
    const args = ["a b", "", "'", "--", "-x", "$HOME", "line\nbreak", "=", "\\"];
    // PWD: none; one naming the cwd through a link (kept); one naming another folder (replaced).
    for (const env of [base, { ...base, PWD: link }, { ...base, PWD: "/" }] as Array<Record<string, string>>) {
      const seen = [];
      for (const r of [warm, cold]) {
        const s = spec(reporter(...args), { env, cwd: link });
        const { exit, out } = await runToEnd(r, s);
        assert.equal(exit.code, 0);
        seen.push(JSON.parse(out) as { env: Record<string, string>; cwd: string; argv: string[] });
      }
      assert.deepEqual(seen[0], seen[1], "warm as cold");
      assert.deepEqual(seen[0]!.env, { ...env, PWD: env.PWD === link ? link : realpathSync(cwd) });
      assert.equal(seen[0]!.cwd, realpathSync(cwd));
      assert.deepEqual(seen[0]!.argv, args);
    }
    // Names the wrapper's shell uses itself reach the worker as the spec has them, warm or not (a
    // wrapper spawned in the worker's environment gave it its own `dir`, `out` and IFS).
    const own = { PATH: process.env.PATH ?? "", IFS: "x", dir: "not the wrapper's", out: "o", child: "c" };
    for (const r of [warm, cold]) {
      const { out } = await runToEnd(r, spec(reporter(), { env: own, cwd }));
      assert.deepEqual((JSON.parse(out) as { env: Record<string, string> }).env, { ...own, PWD: realpathSync(cwd) });
    }
    assert.equal(warm.warmLaunches, 4, "the warm runner's launches went warm");
    assert.equal(cold.warmLaunches, 0);
  });

  test("with no wrapper started ahead, a worker whose PATH finds nothing still has its end recorded: the wrapper's own tools run on the daemon's PATH", async () => {
    const r = newRunner({ warmWrappers: 0 });
    const { exit, out } = await runToEnd(r, spec(["/bin/sh", "-c", 'printf %s "$PATH"; exit 3'], { env: { PATH: "/nonexistent" } }));
    assert.equal(exit.lost, undefined, "exit.json was written (a wrapper on the worker's PATH found no mv: the worker was lost)");
    assert.equal(exit.code, 3);
    assert.equal(out, "/nonexistent");
  });

  test("no value of a warm worker's environment is in the arguments of any process on its way (/proc/PID/cmdline is world-readable)", async () => {
    // A setsid(1) that records its own arguments, then does its job.
    const seenArgs = join(home, "setsid-args");
    const setsid = join(home, "recording-setsid");
    writeFileSync(setsid, `#!/bin/sh\ntr '\\0' ' ' </proc/$$/cmdline >>'${seenArgs}'\nexec /usr/bin/setsid "$@"\n`, { mode: 0o755 });
    const r = newRunner({ setsid });
    const s = spec(reporter("x"), { env: { PATH: process.env.PATH ?? "", API_KEY: "s3cr3t-marker-7f2a" } });
    const { handle, exit, out } = await runToEnd(r, s);
    assert.equal(exit.code, 0);
    assert.ok(cmdline(handle.wrapperPid).length === 0 || !cmdline(handle.wrapperPid).join(" ").includes("s3cr3t"));
    assert.equal((JSON.parse(out) as { env: Record<string, string> }).env.API_KEY, "s3cr3t-marker-7f2a", "the worker has it");
    // The launch's parameters stay in the worker's folder until its next launch: private, as spec.json is.
    assert.equal(statSync(join(s.dir, "launch.sh")).mode & 0o777, 0o600, "launch.sh is the user's alone");
    const recorded = readFileSync(seenArgs, "utf8");
    assert.match(recorded, /recording-setsid .*-e/, "setsid ran, for the worker");
    assert.doesNotMatch(recorded, /s3cr3t/, "its arguments never held the value");
  });

  test("the worker started warm leads its own session and group; the wrapper was the warm one", async () => {
    const r = newRunner();
    const s = spec(["sleep", "30"]);
    const handle = await r.launch(s);
    handles.push(handle);
    assert.ok(cmdline(handle.wrapperPid).includes("--warm"), `wrapper ${cmdline(handle.wrapperPid).join(" ")}`);
    // The pid is told once forked; setsid(1) and env(1) are exec'd after.
    await waitFor("the worker to be exec'd", () => cmdline(handle.pid)[0] === "sleep");
    assert.equal(statField(handle.pid, 2), handle.pid, "the worker's group");
    assert.equal(statField(handle.pid, 3), handle.pid, "the worker's session");
    assert.equal(statField(handle.wrapperPid, 3), handle.wrapperPid, "the wrapper's session");
    const run = JSON.parse(readFileSync(join(s.dir, "run.json"), "utf8")) as { pid: number; wrapperPid: number; launch: number };
    assert.deepEqual([run.pid, run.wrapperPid, run.launch], [handle.pid, handle.wrapperPid, 1]);
    const ended = new Promise<ExitStatus>((resolve) => r.watchExit(handle, s.dir, resolve));
    r.signal(handle, "SIGTERM");
    assert.equal((await ended).signal, "SIGTERM");
  });

  test("a launch a shell cannot export, or one with the warm wrapper gone, starts cold and runs the same", async () => {
    const r = newRunner();
    const a = await runToEnd(r, spec(reporter("x", "y"), { env: { PATH: process.env.PATH ?? "", "NOT-AN-IDENTIFIER": "1" } }));
    assert.equal(r.warmLaunches, 0, "started cold");
    assert.deepEqual((JSON.parse(a.out) as { argv: string[] }).argv, ["x", "y"]);
    // The idle warm wrapper killed: the next launch finds none and starts cold.
    const [idle] = warmChildren(process.pid);
    assert.ok(idle, "an idle warm wrapper");
    process.kill(idle, "SIGKILL");
    await waitFor("the killed warm wrapper to be dead", () => !warmChildren(process.pid).includes(idle));
    const b = await runToEnd(r, spec(reporter("z")));
    assert.equal(b.exit.code, 0);
    assert.deepEqual((JSON.parse(b.out) as { argv: string[] }).argv, ["z"]);
  });

  test("an idle warm wrapper ends when its runner closes, and when the runner's process is killed", async () => {
    const others = new Set(warmChildren(process.pid));
    const r = new ProcessRunner({ home, warmWrappers: 1 });
    const mine = warmChildren(process.pid).filter((p) => !others.has(p));
    assert.equal(mine.length, 1, "the new runner's warm wrapper");
    r.close();
    await waitFor("the closed runner's warm wrapper to end", () => !warmChildren(process.pid).includes(mine[0]!));
    // A runner in a process of its own (as the daemon), SIGKILLed: its warm wrapper's stdin ends.
    const script = `import { ProcessRunner } from ${JSON.stringify(join(REPO, "dist", "daemon", "runner", "process-runner.js"))}; new ProcessRunner({ home: ${JSON.stringify(home)} }); console.log("up"); setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout!.once("data", () => resolve());
        owner.once("exit", (code) => reject(new Error(`runner process exited (${code})`)));
      });
      const [warm] = warmChildren(owner.pid!);
      assert.ok(warm, "the runner process's warm wrapper");
      owner.kill("SIGKILL");
      await waitFor("the orphaned warm wrapper to end", () => cmdline(warm).length === 0 || !cmdline(warm).includes("--warm"));
    } finally {
      owner.kill("SIGKILL");
      // Its folder stock's first batch is made by a shell that outlives it: killed before the home goes.
      killStockRuns(home);
    }
  });
});
