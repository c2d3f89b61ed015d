// Chaos 4: process edge cases.
//
// Load: one daemon (maxParallel 64) running, in turn: a crash loop of 1,000 instant failures
// (on-failure, maxRestarts 999, no backoff); then together a worker that forks 50 grandchildren
// and ignores SIGTERM (stopped with a 300 ms grace), one that closes its stdout and stderr and runs
// on, 10 that exit in the very millisecond they are stopped and 10 stopped about when they end
// on their own, and one that writes 100 MB as fast
// as it can (logMaxBytes 10 MiB, 3 files).
// Must hold: the crash loop ends `fatal` after exactly 1,000 runs, the daemon using little CPU for
// it (printed; at most 25 ms of CPU a run asserted); the tree that ignores SIGTERM is gone, all 51
// processes, and the worker is `stopped`; the worker without stdout runs to its end, `exited`; each
// stop that raced an exit leaves the worker `stopped` if the stop was acknowledged while it ran,
// else in the state it reached on its own, and none stays `stopping`; the fast writer's logs were
// rotated (no file over 10 MiB, at most 3 kept) and the daemon's RSS did not follow it (at most
// 50 MiB more); and at the end no process of any worker is left and no zombie hangs off the
// daemon or a wrapper (the process table is read).
import assert from "node:assert/strict";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readRunRecord } from "../../src/records/worker-files.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { cpuSeconds, figure, homeProcesses, killHomeProcesses, MiB, n, rssBytes, sleep, workerSideProcesses, zombiesUnder } from "./chaos-helpers.js";

const ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const ENDED = ["exited", "failed", "stopped", "timed_out", "fatal"];

async function spawnWorker(c: RpcClient, script: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { worker } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", script], cwd: "/", env: ENV, ...extra } as never);
  return String(worker.id);
}

async function view(c: RpcClient, id: string) {
  return (await c.call("worker.get", { target: id })).workers[0]!;
}

async function waitState(c: RpcClient, id: string, states: string[], timeoutMs = 60_000) {
  return waitFor(`${id} to be ${states.join(" or ")}`, async () => {
    const w = await view(c, id);
    return states.includes(String(w.state)) ? w : null;
  }, timeoutMs, 25);
}

test("process edge cases: a crash loop, a tree that ignores SIGTERM, a closed stdout, stops racing exits, 100 MB of output; no zombie, no orphan", { timeout: 240_000 }, async (t) => {
  if (process.platform !== "linux") return t.skip("reads /proc");
  const home = tempHome("cpwd-chaos-procs-");
  writeFileSync(pathsFor(home).config, JSON.stringify({ maxParallel: 64, logMaxBytes: 10 * MiB, logFiles: 3 }));
  let d: TestDaemon | undefined;
  let c: RpcClient | undefined;
  try {
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    c = await d.client();

    // The crash loop: 1,000 runs of a command that fails at once, no backoff between them.
    const cpu0 = cpuSeconds(d.pid);
    const t0 = Date.now();
    const loop = await spawnWorker(c, "exit 3", {
      restart: { mode: "on-failure", maxRestarts: 999, windowMs: 3_600_000, backoffBaseMs: 0, backoffMaxMs: 0, minUptimeMs: 60_000 },
    });
    const fatal = await waitState(c, loop, ["fatal"], 180_000);
    const loopCpu = cpuSeconds(d.pid) - cpu0;
    const loopWall = (Date.now() - t0) / 1000;
    const runs = (await c.call("events.read", { type: "worker.started", limit: 10_000 })).events.filter((e) => e.worker === loop).length;
    assert.equal(runs, 1_000, "1,000 runs: the first and 999 restarts");
    assert.equal(fatal.restarts, 999);
    assert.equal(fatal.exitCode, 3);

    // The rest, together.
    const rss0 = rssBytes(d.pid);
    writeFileSync(`/proc/${d.pid}/clear_refs`, "5");
    const tree = await spawnWorker(c, "trap '' TERM; i=0; while [ $i -lt 50 ]; do sh -c \"trap '' TERM; sleep 300\" & i=$((i+1)); done; wait", { graceMs: 300 });
    const deaf = await spawnWorker(c, "exec 1>&- 2>&-; sleep 1.5; echo lost; exit 0");
    const writer = await spawnWorker(c, "head -c 100000000 /dev/zero | tr '\\0' 'x' | fold -w 99");
    // Ten exit the moment SIGTERM comes; ten end on their own about when the stop comes: 250 ms
    // after the test lets them go (a file), once all twenty run. Not 300 ms after each starts: a
    // worker runs within milliseconds of its launch, and the last racer's start may be recorded
    // later than that under this load.
    const go = join(home, "racers-go");
    const racers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        spawnWorker(c!, `trap 'exit 0' TERM; ${i < 10 ? "sleep 30" : `while [ ! -e '${go}' ]; do sleep 0.02; done; sleep 0.25`} & wait; exit 4`, { graceMs: 5_000 }),
      ),
    );

    // The tree: all 51 processes up, then stopped.
    const wrapperOf = (id: string) => readRunRecord(join(d!.paths.workers, id))!.wrapperPid;
    // Parsed, not merely there: the wrapper writes run.json in place (one write), not by a rename.
    await waitFor("the tree's run.json", () => readRunRecord(join(d!.paths.workers, tree)) !== null, 30_000, 20);
    const treeProcs = () => homeProcesses(home).filter((p) => p.worker === tree && p.pid !== wrapperOf(tree));
    await waitFor("the tree's 51 processes", () => treeProcs().length >= 51, 30_000, 50);
    const treePids = treeProcs().map((p) => p.pid);
    // The racers: each stopped about when it ends on its own (its sleep is 300 ms).
    await waitFor("the racers to run", async () => (await Promise.all(racers.map((id) => view(c!, id)))).every((w) => w.state === "running"), 30_000, 20);
    writeFileSync(go, "");
    const stopAcks = new Map<string, string>();
    await sleep(240);
    await Promise.all(
      racers.map(async (id, i) => {
        await sleep((i % 10) * 8); // the natural ends: spread over the 80 ms around them
        stopAcks.set(id, String((await c!.call("worker.stop", { target: id })).workers[0]!.state));
      }),
    );
    await c.call("worker.stop", { target: tree });

    const ends = new Map<string, Record<string, unknown>>();
    for (const id of [tree, deaf, writer, ...racers]) ends.set(id, await waitState(c, id, ENDED, 120_000));
    const peak = rssBytes(d.pid, "VmHWM");

    assert.equal(ends.get(tree)!.state, "stopped", "the tree that ignores SIGTERM is stopped");
    assert.ok(treePids.length >= 51);
    await waitFor("every process of the tree to be gone", () => homeProcesses(home).every((p) => p.worker !== tree), 10_000, 50);
    assert.equal(ends.get(deaf)!.state, "exited", "the worker that closed its stdout ran to its end");
    assert.equal(ends.get(deaf)!.exitCode, 0);
    let stoppedRacers = 0;
    for (const id of racers) {
      const ack = stopAcks.get(id)!;
      const w = ends.get(id)!;
      if (ack === "stopping" || ack === "running") {
        assert.equal(w.state, "stopped", `${id}: a stop acknowledged while it ran makes it stopped (ack ${ack})`);
        stoppedRacers++;
      } else {
        assert.ok(["exited", "failed"].includes(ack), `${id}: acknowledged as ${ack}`);
        assert.equal(w.state, ack, `${id}: ended on its own before the stop, and stays so`);
      }
    }

    // The writer's logs: rotated, none over the limit, at most three kept.
    assert.equal(ends.get(writer)!.state, "exited");
    const logs = join(d.paths.workers, writer, "logs");
    // A rotation that began while the writer ran may still be copying (its pieces are
    // `stdout.log.N.rotating` until they are renamed into place): what is kept is what it leaves.
    await waitFor("the writer's last rotation to finish", () => !readdirSync(logs).some((f) => f.endsWith(".rotating")), 30_000, 50);
    const files = readdirSync(logs).filter((f) => f.startsWith("stdout.log"));
    const sizes = files.map((f) => statSync(join(logs, f)).size);
    assert.ok(files.length <= 4, `stdout.log and at most 3 rotated files: ${files.join(", ")}`);
    assert.ok(sizes.every((s) => s <= 10 * MiB), `no log over 10 MiB: ${sizes.join(", ")}`);
    assert.ok(sizes.reduce((a, b) => a + b, 0) >= 10 * MiB, "the most recent output is kept");
    assert.ok(peak - rss0 < 50 * MiB, `the daemon's RSS grew by ${((peak - rss0) / MiB).toFixed(0)} MiB while 100 MB were written`);

    // Nothing left: no process of any worker, no zombie under the daemon or a wrapper.
    await waitFor("no worker process to be left", () => workerSideProcesses(home, d!.pid).length === 0, 10_000, 50);
    const zombies = zombiesUnder([d.pid, ...homeProcesses(home).map((p) => p.pid)]);
    assert.deepEqual(zombies, [], "no zombie hangs off the daemon");
    const stuck = (await c.call("worker.list")).workers.filter((w) => !ENDED.includes(String(w.state)));
    assert.deepEqual(stuck, [], "no worker is left in a state that is not an end");

    figure(
      "process-edges",
      `crash loop: ${n(runs)} runs → fatal in ${loopWall.toFixed(1)} s, daemon CPU ${loopCpu.toFixed(2)} s (${((loopCpu / runs) * 1000).toFixed(1)} ms a run); ` +
        `SIGTERM-deaf tree of ${treePids.length} processes stopped, all gone; closed stdout ran to exit 0; ${racers.length} stops racing exits (${stoppedRacers} stopped, ${racers.length - stoppedRacers} ended first); ` +
        `100 MB writer: ${files.length} files, largest ${(Math.max(...sizes) / MiB).toFixed(1)} MiB, daemon RSS +${((peak - rss0) / MiB).toFixed(0)} MiB; 0 zombies, 0 orphans`,
    );
    assert.ok(loopCpu / runs < 0.025, `the daemon used ${((loopCpu / runs) * 1000).toFixed(1)} ms of CPU a run in the crash loop (at most 25 ms)`);
  } finally {
    c?.close();
    if (d) await d.stop();
    killHomeProcesses(home);
    rmSync(home, { recursive: true, force: true });
  }
});
