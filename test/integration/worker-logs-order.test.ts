// `cpwd logs` as people expect it, through the real daemon, real workers and their real files: both
// streams in the order written (output.log, by the wrapper's output mux) with each line's time;
// several workers merged by time, each line under its worker's name; `-f` across restarts, ending
// with a line saying how each worker ended and a status that reflects it. The workers wait on gate
// files the test makes once it has seen their earlier output on disk: the order is made, not timed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLI, cleanup, cpwd, startDaemon, testEnv, waitFor, withDaemon, type TestDaemon } from "../helpers/daemon.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Shell text that waits until `file` exists. */
const gate = (file: string) => `while [ ! -e '${file}' ]; do sleep 0.02; done`;

/** The CLI running in the background: its output so far, whether it has ended, and its end. */
function startCpwd(home: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { env: testEnv(home), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let exited = false;
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("exit", (code) => {
      exited = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { stdout: () => stdout, stderr: () => stderr, exited: () => exited, done };
}

describe("cpwd logs: order, times, several workers, following to the end", () => {
  let d: TestDaemon;
  let c: RpcClient;
  before(async () => {
    d = await startDaemon();
    c = await d.client();
  });
  after(async () => {
    c.close();
    await cleanup(d);
  });

  async function spawnWorker(script: string, extra: Record<string, unknown> = {}): Promise<string> {
    const { worker } = await c.call("worker.spawn", { argv: ["sh", "-c", script], cwd: d.home, env: { PATH: process.env.PATH ?? "" }, ...extra } as never);
    return String(worker.id);
  }

  const output = (id: string) => join(d.paths.workers, id, "logs", "output.log");
  /** The time output.log gives the record `tag text` (e.g. "o a"), once it is there. */
  const recorded = (id: string, record: string) =>
    waitFor(`${id} to write ${JSON.stringify(record)}`, () => {
      const line = existsSync(output(id)) ? readFileSync(output(id), "utf8").split("\n").find((l) => l.endsWith(` ${record}`)) : undefined;
      return line ? Number(line.split(" ")[0]) : null;
    }, 15_000);
  /** Opens a gate only in a later millisecond than `ms`, so what follows it is recorded later. */
  const openAfter = async (ms: number, file: string) => {
    await waitFor("a later millisecond", () => Date.now() > ms);
    writeFileSync(file, "");
  };
  const state = async (id: string) => (await c.call("worker.get", { target: id })).workers[0]?.state;

  test("logs interleaves stdout and stderr in the order written; --timestamps shows when each line was written; one stream, --both and --raw still work", async () => {
    const [g1, g2, g3] = ["g1", "g2", "g3"].map((g) => join(d.home, `order-${g}`));
    const id = await spawnWorker(`echo a; ${gate(g1!)}; echo b >&2; ${gate(g2!)}; printf par; ${gate(g3!)}; echo tial; echo c >&2`);
    await openAfter(await recorded(id, "o a"), g1!);
    await openAfter(await recorded(id, "e b"), g2!);
    await openAfter(await recorded(id, "o+ par"), g3!);
    await waitFor(`${id} to exit`, async () => (await state(id)) === "exited");

    const r = cpwd(d.home, ["logs", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "a\nb\npartial\nc\n", "both streams, in the order written; a line written in pieces is one line");
    assert.equal(r.stderr, "");

    const timed = cpwd(d.home, ["logs", id, "--timestamps"]).stdout.trimEnd().split("\n").map((l) => ({ time: l.slice(0, 24), text: l.slice(25) }));
    assert.deepEqual(timed.map((l) => l.text), ["a", "b", "partial", "c"]);
    for (const l of timed) assert.match(l.time, ISO);
    const ms = timed.map((l) => Date.parse(l.time));
    assert.ok(ms[0]! < ms[1]! && ms[1]! < ms[2]!, `each gated line was written later than the one before: ${timed.map((l) => l.time).join(", ")}`);
    assert.deepEqual(cpwd(d.home, ["logs", id, "-n", "2"]).stdout, "partial\nc\n");
    const errTimed = cpwd(d.home, ["logs", id, "--stderr", "-t"]).stderr.trimEnd().split("\n");
    assert.deepEqual(errTimed, [`${timed[1]!.time} b`, `${timed[3]!.time} c`], "one stream, timed, has the same times");

    const out = cpwd(d.home, ["logs", id, "--stdout"]);
    assert.equal(out.stdout, "a\npartial\n");
    const err = cpwd(d.home, ["logs", id, "--stderr"]);
    assert.equal(err.stdout, "");
    assert.equal(err.stderr, "b\nc\n");
    const both = cpwd(d.home, ["logs", id, "--both"]);
    assert.deepEqual([both.stdout, both.stderr], ["a\npartial\n", "b\nc\n"]);
    assert.equal(cpwd(d.home, ["logs", id, "--raw"]).stdout, "a\npartial\n", "--raw: stdout's bytes as written");
    assert.equal(readFileSync(join(d.paths.workers, id, "logs", "stderr.log"), "utf8"), "b\nc\n", "each stream's own file is kept");
  });

  test("logs all (or several names) merges workers in time order, each line prefixed by its worker", async () => {
    const [g1, g2] = ["g1", "g2"].map((g) => join(d.home, `merge-${g}`));
    const first = await spawnWorker(`echo one; ${gate(g2!)}; echo three >&2`, { name: "first" });
    const second = await spawnWorker(`${gate(g1!)}; echo two`, { name: "second" });
    await openAfter(await recorded(first, "o one"), g1!);
    await openAfter(await recorded(second, "o two"), g2!);
    await waitFor("both to exit", async () => (await state(first)) === "exited" && (await state(second)) === "exited");

    const named = cpwd(d.home, ["logs", "first", "second"]);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout, `${first} first  | one\n${second} second | two\n${first} first  | three\n`);
    const all = cpwd(d.home, ["logs", "all", "-t"]);
    const mine = all.stdout.split("\n").filter((l) => l.includes(" first ") || l.includes(" second "));
    assert.deepEqual(mine.map((l) => l.slice(25)), [`${first} first  | one`, `${second} second | two`, `${first} first  | three`]);
    assert.equal(cpwd(d.home, ["logs", "all", "--raw"]).code, 2, "--raw is one worker's bytes");
  });

  test("-f follows across restarts, ends with a line saying how the worker ended, and exits with a status that reflects it", async () => {
    const g = join(d.home, "restart-gate");
    const id = await spawnWorker(`echo run; ${gate(g)}; echo bad >&2; exit 3`, {
      name: "crasher",
      restart: { mode: "on-failure", maxRestarts: 1, windowMs: 60_000, backoffBaseMs: 50, backoffMaxMs: 50, minUptimeMs: 30_000 },
    });
    await recorded(id, "o run");
    const follow = startCpwd(d.home, ["logs", id, "-f"]);
    await waitFor("the follower to print the first run", () => follow.stdout() === "run\n");
    writeFileSync(g, "");
    const r = await follow.done;
    assert.equal(await state(id), "fatal");
    assert.equal(r.stdout, "run\nbad\nrun\nbad\n", "both runs' output");
    assert.match(r.stderr, new RegExp(`^cpwd logs: ${id} started, pid \\d+$`, "m"), "the restart is said");
    assert.match(r.stderr, new RegExp(`cpwd logs: ${id} \\(crasher\\) ended: exit 3 \\(fatal\\): restarted 1 time .*\\n$`));
    assert.equal(r.code, 7, "fatal");

    const clean = await spawnWorker("echo fine");
    const ok = await startCpwd(d.home, ["logs", clean, "-f"]).done;
    assert.deepEqual([ok.code, ok.stdout], [0, "fine\n"]);
    assert.match(ok.stderr, new RegExp(`cpwd logs: ${clean} ended: exit 0\\n$`));
  });

  test("-f on a worker still queued (no files yet) interleaves its streams from output.log, with its times", () => withDaemon({ config: { maxParallel: 1 } }, async (qd, qc) => {
    const [g0, g1, g2] = ["g0", "g1", "g2"].map((g) => join(qd.home, `fresh-${g}`));
    const spawnIn = async (script: string) => String((await qc.call("worker.spawn", { argv: ["sh", "-c", script], cwd: qd.home, env: { PATH: process.env.PATH ?? "" } } as never)).worker.id);
    const blocker = await spawnIn(gate(g0!));
    const id = await spawnIn(`echo out; ${gate(g1!)}; echo err >&2; ${gate(g2!)}; echo out2`);
    const queued = (await qc.call("worker.get", { target: id })).workers[0]?.state;
    assert.equal(queued, "queued", `${blocker} holds the only place`);
    const follow = startCpwd(qd.home, ["logs", id, "-f", "-t"]);
    // Said once it follows: its sources were chosen before, while the worker had no files.
    await waitFor("the follower to say it waits", () => follow.stderr() === `cpwd logs: ${id} is queued; following\n`);
    const outputOf = join(qd.paths.workers, id, "logs", "output.log");
    const recordedIn = (record: string) =>
      waitFor(`${id} to write ${record}`, () => {
        const line = existsSync(outputOf) ? readFileSync(outputOf, "utf8").split("\n").find((l) => l.endsWith(` ${record}`)) : undefined;
        return line ? Number(line.split(" ")[0]) : null;
      }, 15_000);
    writeFileSync(g0!, "");
    const times = [await recordedIn("o out")];
    await openAfter(times[0]!, g1!);
    times.push(await recordedIn("e err"));
    await openAfter(times[1]!, g2!);
    const r = await follow.done;
    assert.equal(r.code, 0, r.stderr);
    times.push(await recordedIn("o out2"));
    const lines = r.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.slice(25)), ["out", "err", "out2"]);
    assert.deepEqual(lines.map((l) => l.slice(0, 24)), times.map((t) => new Date(t).toISOString()), "the times output.log recorded");
  }));

  test("logs all -f takes in a worker spawned while it follows, and ends when that one has", () => withDaemon(async (nd, nc) => {
    const g = join(nd.home, "joined-gate");
    const follow = startCpwd(nd.home, ["logs", "all", "-f"]);
    await waitFor("the follower to say there is no worker yet", () => follow.stderr().startsWith("cpwd logs: no workers; following"));
    const { worker } = await nc.call("worker.spawn", { argv: ["sh", "-c", `echo hello; ${gate(g)}; echo bye >&2`], name: "joiner", cwd: nd.home, env: { PATH: process.env.PATH ?? "" } } as never);
    await waitFor("its first line", () => follow.stdout() === `${worker.id} joiner | hello\n`);
    writeFileSync(g, "");
    const r = await follow.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${worker.id} joiner | hello\n${worker.id} joiner | bye\n`);
    assert.match(r.stderr, new RegExp(`cpwd logs: ${worker.id} \\(joiner\\) ended: exit 0\\n$`));
  }));

  test("with outputMux false the worker writes its two logs itself: no output.log, and logs says its streams are not in order", () => withDaemon({ config: { outputMux: false } }, async (nd, nc) => {
    const { worker } = await nc.call("worker.spawn", { argv: ["sh", "-c", "echo a; echo b >&2"], cwd: nd.home, env: { PATH: process.env.PATH ?? "" } } as never);
    const id = String(worker.id);
    await waitFor(`${id} to exit`, async () => (await nc.call("worker.get", { target: id })).workers[0]?.state === "exited");
    const logs = join(nd.paths.workers, id, "logs");
    assert.deepEqual(readdirSync(logs).sort(), ["stderr.log", "stdout.log"]);
    assert.deepEqual(readdirSync(join(nd.home, "bin")).filter((f) => f.startsWith("output-mux-")), [], "no mux installed");
    const r = cpwd(nd.home, ["logs", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n").sort(), ["a", "b"]);
    assert.equal(r.stderr, `cpwd logs: ${id} ran without the output mux (no perl, or outputMux false), so its stdout and stderr are not in the order written\n`);
    assert.equal(cpwd(nd.home, ["logs", id, "--stdout"]).stdout, "a\n");
  }));

  test("-f on several workers ends when all have ended, with the largest status", async () => {
    const [g1, g2] = ["g1", "g2"].map((g) => join(d.home, `several-${g}`));
    const quick = await spawnWorker(`echo q; ${gate(g1!)}`, { name: "quick" });
    const slow = await spawnWorker(`echo s; ${gate(g2!)}; echo late`, { name: "slow" });
    await recorded(quick, "o q");
    await recorded(slow, "o s");
    const follow = startCpwd(d.home, ["logs", "quick", "slow", "-f"]);
    await waitFor("the follower to print both", () => follow.stdout().includes("| q\n") && follow.stdout().includes("| s\n"));
    writeFileSync(g1!, "");
    await waitFor("quick's end to be said", () => follow.stderr().includes(`${quick} (quick) ended: exit 0`));
    await c.call("worker.stop", { target: slow });
    const r = await follow.done;
    assert.ok(r.stderr.indexOf(`${quick} (quick) ended`) < r.stderr.indexOf(`${slow} (slow) ended`), "it went on following the other until it ended");
    assert.match(r.stderr, new RegExp(`cpwd logs: ${slow} \\(slow\\) ended: SIG\\w+ \\(stopped\\)`));
    assert.equal(r.code, 6, "stopped is the largest");
  });
});
