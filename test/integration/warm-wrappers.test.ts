// Wrappers started ahead (daemon/runner/warm-wrappers.ts) with real processes: the worker gets
// exactly its environment (names that are no shell identifiers included), cwd and argv, in a
// session and group of its own; what env(1) could misread, or a warm wrapper gone, starts cold;
// an idle warm wrapper ends with its runner, closed or killed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import type { ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { launchText, type WarmLaunch } from "../../daemon/runner/warm-wrappers.js";
import { REPO, waitFor } from "../helpers/daemon.js";
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
  rmSync(home, { recursive: true, force: true });
});

function newRunner(): ProcessRunner {
  const r = new ProcessRunner({ home, livenessCheckMs: 500, warmWrappers: 1 });
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
  test("the launch's text refuses what env(1) would read as something else, and NUL", () => {
    const base: WarmLaunch = { dir: "/d", timeoutMs: 0, graceMs: 1, timer: "chld", perl: "-", mux: "-", launch: 1, setsid: "/usr/bin/setsid", cwd: "/", env: { A: "1" }, argv: ["sleep", "1"] };
    assert.match(launchText(base, "/usr/bin/env")!, /\nready=1\n$/);
    assert.equal(launchText({ ...base, argv: ["a=b"] }, "/usr/bin/env"), null);
    assert.equal(launchText({ ...base, argv: ["-x"] }, "/usr/bin/env"), null);
    assert.equal(launchText({ ...base, env: { "": "1" } }, "/usr/bin/env"), null);
    assert.equal(launchText({ ...base, env: { A: "x\0y" } }, "/usr/bin/env"), null);
    assert.equal(launchText({ ...base, argv: ["sleep", "a\0"] }, "/usr/bin/env"), null);
  });

  test("a warm launch gives the worker exactly its environment, cwd and argv, in a session of its own", async () => {
    const r = newRunner();
    const cwd = join(home, "a dir with 'quotes' and $x");
    mkdirSync(cwd);
    const env = {
      PATH: process.env.PATH ?? "",
      "NOT-AN-IDENTIFIER": "dash",
      "1LEADING_DIGIT": "digit",
      "a.b": "dot",
      QUOTES: "it's \"quoted\" `x` $(y) \\ back",
      LINES: "one\ntwo\n",
      EMPTY: "",
      UNICODE: "žluťoučký 🐎",
    };
    const args = ["a b", "", "'", "--", "-x", "$HOME", "line\nbreak", "=", "\\"];
    const s = spec(reporter(...args), { env, cwd });
    assert.notEqual(launchText({ dir: s.dir, timeoutMs: 0, graceMs: 1, timer: "chld", perl: "-", mux: "-", launch: 1, setsid: "/usr/bin/setsid", cwd, env, argv: s.argv }, "/usr/bin/env"), null, "a launch for a warm wrapper");
    const { exit, out } = await runToEnd(r, s);
    assert.equal(exit.code, 0);
    const seen = JSON.parse(out) as { env: Record<string, string>; cwd: string; argv: string[] };
    assert.deepEqual(seen.env, env);
    assert.equal(seen.cwd, realpathSync(cwd));
    assert.deepEqual(seen.argv, args);
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

  test("a launch env(1) could misread, or one with the warm wrapper gone, starts cold and runs the same", async () => {
    const r = newRunner();
    const odd = join(home, "bin=odd");
    writeFileSync(odd, "#!/bin/sh\nprintf '%s' \"$*\"\n", { mode: 0o755 });
    const a = await runToEnd(r, spec([odd, "x", "y"]));
    assert.ok(!cmdline(a.handle.wrapperPid).includes("--warm"));
    assert.equal(a.out, "x y");
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
    }
  });
});
