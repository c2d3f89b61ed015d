// The local process runner with real processes: exit codes, argv and env passed literally, logs,
// deadlines that kill whole trees, and a wrapper that outlives the process that started it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { findPerl } from "../../daemon/runner/output-mux.js";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import { isAlive, processStartedAtMs, startedNoLaterThan } from "../../src/platform/proc.js";
import type { ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { waitFor } from "../helpers/daemon.js";
import { nodeFixture } from "../helpers/fixtures.js";
import { killAll, killGroups } from "../helpers/kill.js";

let home: string;
let runner: ProcessRunner;
/** The wrapper under bash as `sh` (POSIX mode), as where /bin/sh is bash: Fedora, Arch, RHEL. */
let bashRunner: ProcessRunner;
const hasBash = existsSync("/bin/bash");
const started: WorkerHandle[] = [];
/** Process groups (or lone pids) to SIGKILL at the end: timers in sessions of their own, stand-ins. */
const extraGroups: number[] = [];
let n = 0;

before(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-runner-"));
  runner = new ProcessRunner({ home, livenessCheckMs: 500 });
  mkdirSync(join(home, "bash-as-sh"));
  symlinkSync("/bin/bash", join(home, "bash-as-sh", "sh"));
  bashRunner = new ProcessRunner({ home, livenessCheckMs: 500, shell: join(home, "bash-as-sh", "sh") });
});
after(() => {
  runner.close();
  bashRunner.close();
  for (const h of started) {
    let timerPid: number | null = null;
    try {
      timerPid = readRunJson(join(home, "workers", h.workerId)).timerPid;
    } catch {
      // no run.json
    }
    killAll([h.pid, h.wrapperPid, ...(timerPid ? [timerPid] : [])].map((pid) => -pid));
  }
  killGroups(extraGroups);
  rmSync(home, { recursive: true, force: true });
});

function spec(argv: string[], over: Partial<LaunchSpec> = {}): LaunchSpec {
  const id = `W${++n}`;
  return { workerId: id, argv, cwd: home, env: { PATH: process.env.PATH ?? "" }, dir: join(home, "workers", id), timeoutMs: null, graceMs: 500, launch: 1, ...over };
}

async function runToEnd(s: LaunchSpec, r = runner): Promise<{ handle: WorkerHandle; exit: ExitStatus }> {
  const handle = await r.launch(s);
  started.push(handle);
  const exit = await new Promise<ExitStatus>((resolve) => r.watchExit(handle, s.dir, resolve));
  return { handle, exit };
}

/** Launches forever.js (a worker that prints its pid, then waits) and waits until it has printed. */
async function launchForever(): Promise<{ s: LaunchSpec; handle: WorkerHandle }> {
  const s = spec(nodeFixture("forever.js"));
  const handle = await runner.launch(s);
  started.push(handle);
  await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
  return { s, handle };
}

function readRunJson(dir: string): { pid: number; wrapperPid: number; timerPid: number | null } {
  return JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** Field `index` (after the command name) of /proc/<pid>/stat: 2 is the process group, 3 the session. */
function statField(pid: number, index: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[index]);
}

/** The live (not zombie) processes of process group `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(group) === pgid && state !== "Z";
      } catch {
        return false;
      }
    });
}

/**
 * Many quick deadlines: the worker's own status must come through, whatever the shell. A worker
 * trapping TERM (`exit 5`) ends with code 5, or SIGKILL if it outlived the grace, or SIGTERM if the
 * deadline beat its shell to the `trap`; one that ignores TERM ends by SIGKILL (SIGTERM if the deadline
 * beat it to ignoring). Never SIGCHLD (the
 * status of a `wait` cut short by a CHLD trap, which bash in POSIX mode used to keep).
 */
async function quickDeadlines(r: ProcessRunner, runs: number): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const traps = (await runToEnd(spec(["/bin/sh", "-c", 'trap "exit 5" TERM; sleep 3'], { timeoutMs: 20, graceMs: 20 }), r)).exit;
    assert.equal(traps.timedOut, true);
    assert.ok(
      [`5/null`, `null/SIGKILL`, `null/SIGTERM`].includes(`${traps.code}/${traps.signal}`),
      `run ${i}: a TERM-trapping worker ended with code ${traps.code}, signal ${traps.signal}`,
    );
    // SIGTERM too when the 1 ms deadline beats `env` to ignoring TERM (the worker was not yet deaf).
    const ignores = (await runToEnd(spec(["env", "--ignore-signal=TERM", "sleep", "3"], { timeoutMs: 1, graceMs: 0 }), r)).exit;
    assert.equal(ignores.timedOut, true);
    assert.ok(
      [`null/SIGKILL`, `null/SIGTERM`].includes(`${ignores.code}/${ignores.signal}`),
      `run ${i}: a worker ignoring TERM ended with code ${ignores.code}, signal ${ignores.signal}`,
    );
  }
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
      // The output mux (perl, output-mux.ts) runs beside the worker: it is not the deadline's.
      const others = kids.filter((p) => p !== handle.pid && !cmdline(p).includes("output-mux-"));
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

  for (const [shell, r] of [["dash", () => runner], ["bash as sh", () => bashRunner]] as const) {
    test(`under ${shell}, cpwd's files are private to the user while a file the worker makes keeps the user's umask`, { skip: shell !== "dash" && !hasBash }, async () => {
      const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);
      const before = process.umask(0o022);
      try {
        const project = mkdtempSync(join(home, "project-"));
        // Ended by its deadline, so the timed-out marker (the wrapper's, or the timer shell's) is written too.
        const s = spec(["/bin/sh", "-c", "echo out; echo err >&2; umask >umask.txt; : >made-by-worker; sleep 30"], { cwd: project, timeoutMs: 1_000, graceMs: 200 });
        const { exit } = await runToEnd(s, r());
        assert.equal(exit.timedOut, true);
        assert.equal(readFileSync(join(project, "umask.txt"), "utf8").trim(), "0022", "the worker runs with the user's umask");
        assert.equal(modeOf(join(project, "made-by-worker")), "644");
        for (const f of ["logs/stdout.log", "logs/stderr.log", "run.json", "exit.json", "timed-out", "wrapper.log"]) {
          assert.equal(modeOf(join(s.dir, f)), "600", f);
        }
        assert.equal(modeOf(join(s.dir, "logs")), "700");
        assert.equal(readFileSync(join(s.dir, "logs", "stdout.log"), "utf8"), "out\n");
      } finally {
        process.umask(before);
      }
    });
  }

  test("logs left by an earlier run with a wider mode are made private at the next launch", async () => {
    const s = spec(["true"]);
    mkdirSync(join(s.dir, "logs"), { recursive: true, mode: 0o700 });
    writeFileSync(join(s.dir, "logs", "stdout.log"), "earlier\n", { mode: 0o644 });
    await runToEnd(s);
    assert.equal(statSync(join(s.dir, "logs", "stdout.log")).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(s.dir, "logs", "stdout.log"), "utf8"), "earlier\n", "appended to, not replaced");
  });

  test("a folder prepared ahead (while its queued record is synced) is ready and launches as any other", async () => {
    const s = spec(nodeFixture("exit.js", "0"));
    mkdirSync(s.dir, { recursive: true });
    writeFileSync(join(s.dir, "exit.json"), '{"code":9,"signal":null,"timedOut":false,"endedAt":1}\n');
    runner.prepare(s.dir);
    assert.equal(existsSync(join(s.dir, "exit.json")), false, "an earlier run's records are gone");
    for (const f of ["logs/stdout.log", "logs/stderr.log", "wrapper.log"]) assert.equal(statSync(join(s.dir, f)).mode & 0o777, 0o600, f);
    assert.equal((await runToEnd(s)).exit.code, 0);
  });

  test("a missing working directory is refused before anything starts", async () => {
    await assert.rejects(runner.launch(spec(nodeFixture("exit.js"), { cwd: join(home, "nope") })), /does not exist/);
  });

  test("the wrapper outlives the process that launched it, and a new runner adopts it", async () => {
    // The worker runs until the test releases it, after the adoption: made, not timed.
    const gate = join(home, "release-adopted");
    const s = spec(["/bin/sh", "-c", `while [ ! -e ${gate} ]; do sleep 0.05; done`]);
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
    writeFileSync(gate, "");
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
    const { s, handle } = await launchForever();
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    process.kill(handle.wrapperPid, "SIGKILL");
    const exit = await ended;
    assert.equal(exit.lost, true);
    await waitFor("the orphaned worker to be killed", () => !isAlive(handle.pid), 5_000);
  });

  test("a wrapper found dead at adoption: the worker still ours is killed; a pid not ours is left alone", async () => {
    const { s, handle } = await launchForever();
    process.kill(handle.wrapperPid, "SIGKILL");
    await waitFor("the wrapper to die", () => !isAlive(handle.wrapperPid));
    // A start time that does not match: the pid may be someone else's now, so nothing is killed.
    assert.equal((await runner.adopt(s.workerId, s.dir, { ...handle, pidStartTime: "0" })).kind, "lost");
    assert.ok(isAlive(handle.pid), "not killed on a start time that does not match");
    assert.equal((await runner.adopt(s.workerId, s.dir, handle)).kind, "lost");
    await waitFor("the orphaned worker to be killed", () => !isAlive(handle.pid), 5_000);
  });

  test("a wrapper killed outright whose worker then ended: the idle output mux left in the wrapper's group is killed", async () => {
    const { s, handle } = await launchForever();
    const mux = groupMembers(handle.wrapperPid).filter((p) => p !== handle.wrapperPid && cmdline(p).includes("output-mux"));
    assert.equal(mux.length, 1, "the mux runs in the wrapper's group");
    process.kill(handle.wrapperPid, "SIGKILL");
    process.kill(-handle.pid, "SIGKILL");
    await waitFor("the wrapper and the worker to die", () => !isAlive(handle.wrapperPid) && !isAlive(handle.pid));
    assert.deepEqual(groupMembers(handle.wrapperPid), mux, "the mux waits on, idle");
    // The worker's pid is no longer the one started (here: a start time that does not match).
    assert.equal((await runner.adopt(s.workerId, s.dir, { ...handle, pidStartTime: "0" })).kind, "lost");
    await waitFor("the wrapper's group to be gone", () => groupMembers(handle.wrapperPid).length === 0, 5_000);
  });

  test("a detached grandchild writing for ever to the worker's stdout does not keep the worker's end from being recorded", { skip: !existsSync("/usr/bin/setsid") }, async () => {
    const pidFile = join(home, `writer-${n + 1}.pid`);
    // The grandchild leaves the worker's group (setsid) and writes without a pause into the mux's
    // pipe, widened to 1 MiB (F_SETPIPE_SZ) so that it is never empty when the mux looks.
    const writer = join(home, "writer.pl");
    writeFileSync(writer, 'open(my $f, ">", $ARGV[0]) or die; print $f $$; close $f; fcntl(STDOUT, 1031, 1 << 20); print "x\\n" while 1;\n');
    const s = spec(["/bin/sh", "-c", `/usr/bin/setsid perl ${writer} ${pidFile} & sleep 0.3; exit 5`]);
    const handle = await runner.launch(s);
    started.push(handle);
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    const writerPid = await waitFor("the writer's pid", () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0));
    extraGroups.push(writerPid);
    const exit = await Promise.race([ended, new Promise<null>((r) => setTimeout(() => r(null), 8_000).unref())]);
    killGroups([writerPid]);
    assert.equal(exit?.code, 5, "the worker's end is recorded within seconds");
    assert.ok(statSync(join(s.dir, "logs", "stdout.log")).size > 0);
  });

  test("the wrapper's memory: at most 5 MiB per worker (proportional set size)", async () => {
    const s = spec(nodeFixture("forever.js"), { timeoutMs: 60_000 });
    const handle = await runner.launch(s);
    started.push(handle);
    await waitFor("run.json", () => readFileSync(join(s.dir, "run.json"), "utf8").length > 0);
    // PSS, not RSS: what one more worker costs. RSS counts the shared libraries whole in every
    // process; perl's (the output mux) alone is ~6 MiB RSS of which ~1.3 MiB is its own.
    const rssKiB = (pid: number) => Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
    // The wrapper sh plus its deadline timer (one `sleep`, a child of the wrapper) and the output mux.
    const timerPids = readFileSync(`/proc/${handle.wrapperPid}/task/${handle.wrapperPid}/children`, "utf8").trim().split(/\s+/).map(Number).filter((p) => p !== handle.pid);
    const helpers = timerPids.flatMap((p) => [p, ...readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)]);
    const total = [handle.wrapperPid, ...helpers].reduce((a, p) => a + rssKiB(p), 0);
    assert.ok(total > 0 && total <= 5 * 1024, `wrapper PSS ${total} KiB`);
    runner.signal(handle, "SIGKILL");
  });
  test("40 quick deadlines under dash: the worker's own status every time, never SIGCHLD", async () => {
    await quickDeadlines(runner, 40);
  });

  test("40 quick deadlines under bash as sh: the worker's own status every time, never SIGCHLD", { skip: !hasBash }, async () => {
    await quickDeadlines(bashRunner, 40);
  });

  test("under bash as sh the deadline is a timer in a session of its own, named in run.json and gone when the worker ends first", { skip: !hasBash }, async () => {
    const s = spec(["/bin/sh", "-c", "sleep 0.5; exit 3"], { timeoutMs: 60_000, graceMs: 300 });
    const handle = await bashRunner.launch(s);
    started.push(handle);
    const ended = new Promise<ExitStatus>((resolve) => bashRunner.watchExit(handle, s.dir, resolve));
    const timerPid = readRunJson(s.dir).timerPid;
    assert.ok(timerPid, "run.json names the timer");
    // `setsid` makes its session a moment after the wrapper forked it: wait for that, not for time.
    await waitFor("the timer to lead its own group and session", () => statField(timerPid, 2) === timerPid && statField(timerPid, 3) === timerPid);
    const sleep = await waitFor("the timer's sleep", () => childrenOf(timerPid).find((p) => cmdline(p).startsWith("sleep\x0060.000")));
    const exit = await ended;
    assert.deepEqual([exit.code, exit.signal, exit.timedOut], [3, null, false]);
    await waitFor("the timer and its sleep to be gone", () => !isAlive(timerPid) && !isAlive(sleep), 5_000);
  });

  test("a wrapper killed outright under dash takes its deadline's sleep along, not left for the whole timeout", async () => {
    const s = spec(nodeFixture("forever.js"), { timeoutMs: 3_600_000 });
    const handle = await runner.launch(s);
    started.push(handle);
    assert.equal(readRunJson(s.dir).timerPid, null, "no separate timer under dash");
    const sleep = await waitFor("the deadline's sleep", () => childrenOf(handle.wrapperPid).find((p) => cmdline(p).startsWith("sleep\x003600.000")));
    await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
    const ended = new Promise<ExitStatus>((resolve) => runner.watchExit(handle, s.dir, resolve));
    process.kill(handle.wrapperPid, "SIGKILL");
    assert.equal((await ended).lost, true);
    await waitFor("the worker and the deadline's sleep to be gone", () => !isAlive(handle.pid) && !isAlive(sleep), 5_000);
  });

  test("a wrapper killed outright under bash as sh takes its separate timer along", { skip: !hasBash }, async () => {
    const s = spec(nodeFixture("forever.js"), { timeoutMs: 3_600_000 });
    const handle = await bashRunner.launch(s);
    started.push(handle);
    const timerPid = readRunJson(s.dir).timerPid!;
    const sleep = await waitFor("the timer's sleep", () => childrenOf(timerPid).find((p) => cmdline(p).startsWith("sleep\x003600.000")));
    await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("forever.js pid"));
    process.kill(handle.wrapperPid, "SIGKILL");
    await waitFor("the wrapper to die", () => !isAlive(handle.wrapperPid));
    // Found dead at adoption this time (the live check takes the same path).
    assert.equal((await bashRunner.adopt(s.workerId, s.dir, handle)).kind, "lost");
    await waitFor("the worker, the timer and its sleep to be gone", () => [handle.pid, timerPid, sleep].every((p) => !isAlive(p)), 5_000);
  });

  test("adoption with no start times recorded takes a wrapper that started before run.json was written", async () => {
    const s = spec(nodeFixture("forever.js"));
    const handle = await runner.launch(s);
    started.push(handle);
    const adopted = await runner.adopt(s.workerId, s.dir, null);
    assert.equal(adopted.kind, "running");
    assert.equal(adopted.handle?.wrapperStartTime, handle.wrapperStartTime);
    assert.equal(adopted.handle?.pidStartTime, handle.pidStartTime);
    runner.signal(handle, "SIGKILL");
  });

  test("adoption with no start times recorded refuses a pid whose process started after run.json was written, and kills nothing", async () => {
    const dir = join(home, "workers", "reused");
    mkdirSync(dir, { recursive: true });
    // run.json from a minute ago; its pids now belong to a process (leading a group of its own) started since.
    const stranger = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    extraGroups.push(stranger.pid!);
    await waitFor("the stranger to run", () => cmdline(stranger.pid!).startsWith("sleep"));
    writeFileSync(join(dir, "run.json"), JSON.stringify({ pid: stranger.pid, wrapperPid: stranger.pid, timerPid: stranger.pid }));
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "run.json"), aMinuteAgo, aMinuteAgo);
    const adopted = await runner.adopt("reused", dir, null);
    assert.equal(adopted.kind, "lost");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(isAlive(stranger.pid!), "the stranger was not killed");
  });
});

describe("start times against a record's mtime", () => {
  test("a process started no later than the record (within the tolerance) may be the one it names", () => {
    const written = 1_700_000_000_000;
    for (const [startedAt, tolerance, ours] of [
      [written - 60_000, 1_000, true],
      [written, 1_000, true],
      [written + 999, 1_000, true],
      [written + 1_000, 1_000, true],
      [written + 1_001, 1_000, false],
      [written + 3_600_000, 1_000, false],
      [written + 1, 0, false],
    ] as const) {
      assert.equal(startedNoLaterThan(startedAt, written, tolerance), ours, `started ${startedAt - written} ms after, tolerance ${tolerance}`);
    }
    assert.equal(startedNoLaterThan(written + 500, written), true, "the default tolerance covers a start time read up to 1 s off");
  });

  test("this process's start time, read as wall-clock ms, agrees with its uptime", { skip: process.platform !== "linux" }, () => {
    const startedAt = processStartedAtMs(process.pid);
    assert.ok(startedAt !== null);
    const expected = Date.now() - process.uptime() * 1000;
    assert.ok(Math.abs(startedAt - expected) < 2_000, `off by ${startedAt - expected} ms`);
    assert.equal(processStartedAtMs(2 ** 22 + 1), null, "no such pid");
  });
});

describe("finding perl for the output mux", () => {
  const found = findPerl("");
  test("a perl that lacks Time::HiRes, or hangs, is passed over for the next, each within a second", { skip: found === null }, () => {
    const dir = mkdtempSync(join(tmpdir(), "cpwd-perl-"));
    try {
      for (const [name, body] of [["lacking", "exit 2"], ["hanging", "exec /bin/sleep 10"]] as const) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, "perl"), `#!/bin/sh\n${body}\n`);
        chmodSync(join(dir, name, "perl"), 0o755);
      }
      assert.equal(findPerl(join(dir, "lacking")), found);
      const t0 = Date.now();
      assert.equal(findPerl(join(dir, "hanging")), found);
      assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
