// Seeing what is going on, against a real daemon: `cpwd status W3` lists every run of a worker that
// restarted (with the daemon down too), a worker that forks children shows its whole tree's
// memory and CPU in the table and in --json, and `cpwd status --watch` draws frames — piped: plain,
// redrawn when a worker appears, ended by SIGINT or by its reader going away; on a terminal: in
// place and in colour, none with NO_COLOR.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { test } from "node:test";
import { run as status } from "../../cli/commands/status.js";
import type { CliContext } from "../../cli/context.js";
import { startCli } from "../helpers/background-cli.js";
import { CLI, cpwd, testEnv, waitFor, withDaemon } from "../helpers/daemon.js";

const ESC = "\x1b[";
/** An SGR colour or bold code (not a cursor move). */
const COLOUR = /\x1b\[[0-9;]*m/;

test("a worker that restarted is described with every run: start, end, exit, what followed; also with the daemon down", () => withDaemon(async (d, c) => {
  const r = cpwd(d.home, ["spawn", "--name", "flaky", "--restart", "on-failure", "--max-restarts", "1", "--backoff", "50ms..50ms", "--", "sh", "-c", "echo out; exit 3"]);
  assert.equal(r.code, 0, r.stderr);
  await waitFor("the worker to be fatal", async () => (await c.call("worker.get", { target: "flaky" })).workers[0]?.state === "fatal");

  const text = cpwd(d.home, ["status", "flaky"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^W1 {2}flaky {2}fatal/);
  assert.match(text.stdout, /restart {3}on-failure: at most 1 restart in 10m 0s, backoff 50ms\.\.50ms/);
  assert.match(text.stdout, /restarts {2}1 \(1 by the restart policy, 0 by `cpwd restart`\), 2 runs in all/);
  assert.match(text.stdout, new RegExp(`logs {6}${d.home}/workers/W1/logs/stdout.log\\n {12}${d.home}/workers/W1/logs/stderr.log`));
  assert.match(text.stdout, /claims {4}none/);
  const rows = text.stdout.split("\n").filter((l) => /^[12] /.test(l));
  assert.equal(rows.length, 2, text.stdout);
  assert.match(rows[0]!, /^1 +spawn +\d\d:\d\d:\d\d +\d\d:\d\d:\d\d +\S+ +\d+ +exit 3 \(failed\) +→ backoff \d+ms$/);
  assert.match(rows[1]!, /^2 +restart policy +.*exit 3 \(failed\) +→ fatal: /);
  assert.doesNotMatch(text.stdout, COLOUR, "no colour into a pipe");

  const json = JSON.parse(cpwd(d.home, ["status", "W1", "--json"]).stdout) as { worker: { id: string; state: string }; runs: Array<{ number: number; exitCode: number; startedAt: string; endedAt: string; pid: number }>; daemon: boolean };
  assert.equal(json.worker.state, "fatal");
  assert.equal(json.daemon, true);
  assert.deepEqual(json.runs.map((x) => [x.number, x.exitCode]), [[1, 3], [2, 3]]);
  for (const x of json.runs) assert.ok(x.pid > 0 && Date.parse(x.endedAt) >= Date.parse(x.startedAt));

  const missing = cpwd(d.home, ["status", "nosuch"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^cpwd status: no worker nosuch/);

  await d.stop();
  const down = cpwd(d.home, ["status", "flaky"]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /the daemon is not running .*described from the record on disk/);
  assert.match(down.stdout, /^W1 {2}flaky {2}fatal/);
  assert.equal(down.stdout.split("\n").filter((l) => /^[12] /.test(l)).length, 2);
  assert.match(down.stdout, /claims {4}- \(the daemon is not running\)/);
}));

test("a worker that forks children: its tree's memory and CPU in the table, in --json and in its description", { skip: process.platform !== "linux" && "process trees are read from /proc" }, () => withDaemon(async (d, c) => {
  const script = "sleep 300 & sleep 300 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; wait";
  const r = cpwd(d.home, ["spawn", "--name", "forks", "--", "sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  type Usage = { cpuPercent: number | null; rssBytes: number; processes: number } | null;
  const usage = await waitFor("the tree to hold three processes", async () => {
    const s = JSON.parse(cpwd(d.home, ["status", "--json"]).stdout) as { workers: Array<{ id: string; usage: Usage }> };
    const u = s.workers.find((w) => w.id === "W1")?.usage;
    return u && u.processes >= 3 ? u : null;
  });
  assert.ok(usage.rssBytes > 0, `RSS ${usage.rssBytes}`);
  assert.equal(typeof usage.cpuPercent, "number");
  assert.ok(usage.cpuPercent! >= 0);

  const table = cpwd(d.home, ["status"]).stdout;
  assert.match(table, /ID +NAME +STATE +PID +CPU +MEM +TIME/);
  assert.match(table, /^W1 +forks +running +\d+ +\d+(\.\d)?% +\d+(\.\d)?[KMG] /m);
  const one = (await c.call("worker.get", { target: "forks" })).workers[0] as { usage?: Usage };
  assert.ok(one.usage && one.usage.processes >= 3, "worker.get carries it too");
  assert.match(cpwd(d.home, ["status", "forks"]).stdout, /running {2}pid \d+, up \S+, CPU \d+(\.\d)?%, MEM \d+(\.\d)?[KMG] \(\d+ processes\)/);
}));

test("status --watch into a pipe: plain frames, a new one when a worker appears, exit 0 on SIGINT", () => withDaemon(async (d) => {
  const watch = startCli(d.home, ["status", "--watch"]);
  try {
    await waitFor("a first frame", () => watch.stdout().includes("workers: none"), 20_000);
    assert.match(watch.stdout(), /^cpwd status --watch · \d\d:\d\d:\d\d · on each event and every 1s · Ctrl-C quits\n\ncpwd daemon /);
    const r = cpwd(d.home, ["spawn", "--name", "late", "--", "sleep", "300"]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor("a frame with the worker", () => /^W1 +late +(queued|starting|running)/m.test(watch.stdout()), 20_000);
    watch.child.kill("SIGINT");
    assert.equal(await watch.done, 0);
    assert.ok(!watch.stdout().includes(ESC), "no colour or cursor codes into a pipe");
    assert.equal(watch.stderr(), "");
  } finally {
    await watch.stop();
  }
}));

test("status --watch ends when its reader goes away", () => withDaemon(async (d) => {
  const child = spawn(process.execPath, [CLI, "status", "--watch"], { env: testEnv(d.home), stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const limit = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    await waitFor("a first frame", () => out.includes("cpwd daemon"), 20_000);
    child.stdout.destroy(); // the next frame (a second later at most) meets EPIPE
    assert.equal(await exited, 0);
  } finally {
    clearTimeout(limit);
  }
}));

/** A stdout that says it is a terminal, keeping what is written; `close()` ends a watch on it. */
function fakeTerminal(): Writable & { text: string; isTTY: boolean; columns: number; rows: number } {
  const out = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string; isTTY: boolean; columns: number; rows: number };
  Object.assign(out, { text: "", isTTY: true, columns: 100, rows: 30 });
  return out;
}

test("on a terminal status --watch redraws in place, in colour; with NO_COLOR without", () => withDaemon(async (d, c) => {
  await c.call("worker.spawn", { argv: ["sleep", "300"], cwd: "/", env: { PATH: process.env.PATH ?? "" } } as never);
  for (const noColor of [false, true]) {
    const stdout = fakeTerminal();
    const env = { ...testEnv(d.home), ...(noColor ? { NO_COLOR: "1" } : {}) };
    if (!noColor) delete env.NO_COLOR;
    const ctx: CliContext = { env, cwd: "/", stdout, stderr: stdout, cliScript: CLI, nodePath: process.execPath };
    const watching = status(["--watch"], ctx);
    await waitFor("two frames", () => stdout.text.split(`${ESC}H`).length > 2 && stdout.text.includes("sleep 300"), 20_000);
    stdout.emit("close");
    assert.equal(await watching, 0);
    assert.ok(stdout.text.startsWith(`${ESC}?25l${ESC}2J${ESC}H`), "a clear screen, then each frame from the top");
    assert.ok(stdout.text.endsWith(`${ESC}?25h`), "the cursor back at the end");
    if (noColor) assert.doesNotMatch(stdout.text, COLOUR, "NO_COLOR: no colour");
    else assert.ok(stdout.text.includes(`${ESC}32mrunning`), "running in green");
  }
}));
