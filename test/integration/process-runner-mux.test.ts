// The worker's launch never waits for its output mux (wrapper-script.ts): the wrapper holds the
// mux's FIFOs open itself, so a mux that is slow to start, exits at once, cannot start at all or
// dies mid-run neither holds the worker's exec nor the record of its end. (Before, the worker's
// write-only open of the FIFO waited for the mux to open it, for ever if it never did.)
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { findPerl } from "../../daemon/runner/output-mux.js";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import type { ExitStatus, LaunchSpec, WorkerHandle } from "../../daemon/runner/runner.js";
import { isAlive } from "../../src/platform/proc.js";
import { waitFor } from "../helpers/daemon.js";
import { killAll } from "../helpers/kill.js";

const perl = findPerl();
const hasBash = existsSync("/bin/bash");
let home: string;
const runners: ProcessRunner[] = [];
const started: WorkerHandle[] = [];
let n = 0;

before(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-mux-"));
  mkdirSync(join(home, "bash-as-sh"));
  symlinkSync("/bin/bash", join(home, "bash-as-sh", "sh"));
});
after(() => {
  for (const r of runners) r.close();
  killAll(started.flatMap((h) => [-h.pid, -h.wrapperPid]));
  rmSync(home, { recursive: true, force: true });
});

function runnerWith(opts: { perl: string | null; shell?: string }): ProcessRunner {
  const r = new ProcessRunner({ home, livenessCheckMs: 500, ...opts });
  runners.push(r);
  return r;
}

/** An executable shell script in the test's home. */
function script(name: string, body: string): string {
  const file = join(home, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function spec(argv: string[]): LaunchSpec {
  const id = `W${++n}`;
  return { workerId: id, argv, cwd: home, env: { PATH: process.env.PATH ?? "" }, dir: join(home, "workers", id), timeoutMs: null, graceMs: 500, launch: 1 };
}

/** The worker's end, or null if it is not recorded within `ms`. */
function endWithin(r: ProcessRunner, handle: WorkerHandle, dir: string, ms: number): Promise<ExitStatus | null> {
  return Promise.race([new Promise<ExitStatus>((resolve) => r.watchExit(handle, dir, resolve)), new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref())]);
}

/** A worker running `loop` (a shell loop printing tick) under a runner with the mux, once its output shows; and its mux's pid. */
async function tickingWorker(loop: string): Promise<{ r: ProcessRunner; s: LaunchSpec; handle: WorkerHandle; mux: number }> {
  const r = runnerWith({ perl });
  const s = spec(["/bin/sh", "-c", loop]);
  const handle = await r.launch(s);
  started.push(handle);
  await waitFor("output", () => readFileSync(join(s.dir, "logs", "stdout.log"), "utf8").includes("tick"));
  return { r, s, handle, mux: muxOf(handle) };
}

/** The output mux's pid: the wrapper's child that is not the worker. */
function muxOf(handle: WorkerHandle): number {
  const children = readFileSync(`/proc/${handle.wrapperPid}/task/${handle.wrapperPid}/children`, "utf8").trim().split(/\s+/).map(Number).filter((p) => p !== handle.pid);
  assert.equal(children.length, 1, "the mux is the wrapper's other child");
  return children[0]!;
}

/** A worker that says it has run (a marker file), writes to both streams and exits 3. */
function markingWorker(): { argv: string[]; marker: string } {
  const marker = join(home, `ran-${n + 1}`);
  return { argv: ["/bin/sh", "-c", 'echo out; echo err >&2; : >"$1"; exit 3', "sh", marker], marker };
}

describe("a worker whose output mux fails", () => {
  const shells: [string, string | undefined][] = [["dash", undefined], ...(hasBash ? ([["bash as sh", "bash-as-sh/sh"]] as [string, string][]) : [])];
  for (const [shellName, shell] of shells) {
    for (const [what, mux] of [
      ["exits at once without opening its FIFOs", () => "/bin/true"],
      ["cannot be started at all", () => join(home, "no-such-perl")],
      ["exits with an error before opening them", () => script("failing-mux", "echo 'cpwd mux: cannot start' >&2; exit 2")],
    ] as const) {
      test(`under ${shellName}, a mux that ${what}: the worker runs and its end is recorded`, async () => {
        const r = runnerWith({ perl: mux(), shell: shell && join(home, shell) });
        const { argv, marker } = markingWorker();
        const s = spec(argv);
        const handle = await r.launch(s);
        started.push(handle);
        const exit = await endWithin(r, handle, s.dir, 10_000);
        assert.ok(existsSync(marker), "the worker ran");
        assert.equal(exit?.code, 3, "its end is recorded, with its own code");
        assert.equal(exit?.lost, undefined);
        assert.deepEqual(readdirSync(s.dir).filter((f) => f.endsWith(".pipe")), [], "the run's FIFOs are removed at its end");
      });
    }
  }

  test("a mux slow to start holds neither the worker's exec nor its output: what it wrote waits in the pipes", { skip: perl === null }, async () => {
    // The mux is held back until the test lets it go, and marks when it really starts (execs perl).
    const go = join(home, "slow-mux-go");
    const muxStarted = join(home, "slow-mux-started");
    const slow = script("slow-perl", `while [ ! -e '${go}' ]; do sleep 0.02; done; : >'${muxStarted}'; exec ${perl} "$@"`);
    const r = runnerWith({ perl: slow });
    const { argv, marker } = markingWorker();
    const s = spec(argv);
    const handle = await r.launch(s);
    started.push(handle);
    await waitFor("the worker to run before its mux starts", () => existsSync(marker), 10_000, 10);
    assert.equal(existsSync(muxStarted), false, "the worker ran while its mux had not started");
    writeFileSync(go, "");
    const exit = await endWithin(r, handle, s.dir, 10_000);
    assert.equal(exit?.code, 3);
    assert.ok(existsSync(muxStarted), "the mux started after the worker had run");
    assert.equal(readFileSync(join(s.dir, "logs", "stdout.log"), "utf8"), "out\n");
    assert.equal(readFileSync(join(s.dir, "logs", "stderr.log"), "utf8"), "err\n");
    assert.match(readFileSync(join(s.dir, "logs", "output.log"), "utf8"), /^\d+ o out\n\d+ e err\n$/);
  });

  test("a mux killed while its worker runs: the worker writes on (no SIGPIPE), is stopped, and its end is recorded", { skip: perl === null }, async () => {
    const { r, s, handle, mux } = await tickingWorker("trap 'exit 7' TERM; while :; do echo tick; echo tock >&2; sleep 0.02; done");
    process.kill(mux, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.ok(isAlive(handle.pid), "the worker writes on into the wrapper's pipes");
    const ended = endWithin(r, handle, s.dir, 10_000);
    r.signal(handle, "SIGTERM");
    const exit = await ended;
    assert.equal(exit?.code, 7, "stopped by us, its own end recorded");
  });
});

describe("a wrapper killed outright", () => {
  test("its mux ends on its own (its parent changed), instead of idling for ever", { skip: perl === null, timeout: 30_000 }, async () => {
    const { r, handle, mux } = await tickingWorker("while :; do echo tick; sleep 0.05; done");
    r.close(); // no runner to find the wrapper lost and kill its group: the mux is on its own
    process.kill(handle.wrapperPid, "SIGKILL");
    await waitFor("the mux to end", () => !isAlive(mux), 20_000);
  });
});

test("a mux that starts only after its wrapper was killed outright ends on its own", { skip: perl === null }, async () => {
  // The mux held back until the wrapper is gone: it starts reparented, and must not take that
  // parent for its wrapper (it idled for ever when it read its parent at start).
  const go = join(home, "late-mux-go");
  const late = script("late-perl", `while [ ! -e '${go}' ]; do sleep 0.02; done; exec ${perl} "$@"`);
  const r = runnerWith({ perl: late });
  const s = spec(["/bin/sh", "-c", "sleep 30"]);
  const handle = await r.launch(s);
  started.push(handle);
  let mux = 0;
  await waitFor("the held-back mux", () => {
    try {
      mux = muxOf(handle);
      return true;
    } catch {
      return false;
    }
  });
  r.close();
  process.kill(handle.wrapperPid, "SIGKILL");
  await waitFor("the mux to be reparented", () => Number(readFileSync(`/proc/${mux}/stat`, "utf8").split(") ")[1]!.split(" ")[1]) !== handle.wrapperPid);
  writeFileSync(go, "");
  await waitFor("the late mux to end", () => !isAlive(mux), 20_000);
});

describe("without the stock of folders made ahead", () => {
  test("without a stock (its folder cannot be made), the wrapper makes the FIFOs itself", { skip: perl === null }, async () => {
    const home2 = join(home, "no-stock-home");
    mkdirSync(home2);
    writeFileSync(join(home2, "stock"), "not a folder");
    const r = new ProcessRunner({ home: home2, livenessCheckMs: 500, perl });
    runners.push(r);
    const { argv, marker } = markingWorker();
    const s = { ...spec(argv), dir: join(home2, "workers", "W1") };
    const handle = await r.launch(s);
    started.push(handle);
    const exit = await endWithin(r, handle, s.dir, 10_000);
    assert.ok(existsSync(marker));
    assert.equal(exit?.code, 3);
    assert.match(readFileSync(join(s.dir, "logs", "output.log"), "utf8"), /^\d+ o out\n\d+ e err\n$/);
  });
});
