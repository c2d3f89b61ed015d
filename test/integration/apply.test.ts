// `cpwd apply`: the declarative worker file against a real daemon. Workers start with the file's
// options; an unchanged one is left alone, a changed one restarted (a new command as a rerun of the
// same worker, anything else as a new worker under the same name); --prune stops and removes only
// what this file started; --dry-run changes nothing; a bad file is refused whole, each problem
// naming the entry and the field.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLI, cpwd, tempHome, testEnv, waitFor, withDaemon, withHome } from "../helpers/daemon.js";

/** A project folder with the given worker file; removed by the test. */
function project(workers: unknown[], fileName = "cpwd.json"): { dir: string; file: string; write(workers: unknown[]): void } {
  const dir = realpathSync(tempHome("cpwd-apply-"));
  const file = join(dir, fileName);
  const write = (w: unknown[]) => writeFileSync(file, `${JSON.stringify({ workers: w }, null, 2)}\n`);
  write(workers);
  return { dir, file, write };
}

/** Runs `cpwd apply ARGS` from `cwd`. */
function apply(home: string, cwd: string, args: string[] = []) {
  const r = spawnSync(process.execPath, [CLI, "apply", ...args], { cwd, env: testEnv(home), encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Each output line as [verb, name, detail]. */
function lines(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/ {2,}/));
}

async function worker(c: RpcClient, target: string): Promise<Record<string, any>> {
  return (await c.call("worker.get", { target })).workers[0]!;
}

async function running(c: RpcClient, target: string): Promise<Record<string, any>> {
  return waitFor(`${target} to run`, async () => {
    const w = await worker(c, target);
    return w.state === "running" ? w : null;
  });
}

const SLEEP = ["/bin/sh", "-c", 'pwd; echo "FOO=$FOO"; exec sleep 300'];

test("apply starts what the file lists with its options, from a folder below .cpwd.json; again, it leaves them unchanged", async () => {
  const p = project(
    [
      { name: "api", command: SLEEP, cwd: "srv", env: { FOO: "bar" }, timeout: "10m", grace: "2s", restart: { mode: "on-failure", backoff: "1s..5s", maxRestarts: 3 } },
      { name: "web", command: SLEEP },
    ],
    ".cpwd.json",
  );
  mkdirSync(join(p.dir, "srv", "deep"), { recursive: true });
  try {
    await withDaemon(async (d, c) => {
      const first = apply(d.home, join(p.dir, "srv", "deep"));
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(lines(first.stdout), [
        ["started", "api", "W1"],
        ["started", "web", "W2"],
      ]);
      const api = await running(c, "api");
      assert.equal(api.cwd, join(p.dir, "srv"), "a relative cwd is relative to the file's folder");
      assert.equal((await running(c, "web")).cwd, p.dir, "no cwd: the file's folder");
      assert.equal(api.meta.applied.file, p.file);
      const spec = JSON.parse(readFileSync(join(d.paths.workers, "W1", "spec.json"), "utf8"));
      assert.equal(spec.timeoutMs, 600_000);
      assert.equal(spec.graceMs, 2_000);
      assert.deepEqual(spec.restart, { mode: "on-failure", maxRestarts: 3, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 5_000, minUptimeMs: 30_000 });
      assert.equal(spec.env.FOO, "bar");
      assert.equal(spec.env.PATH, process.env.PATH, "the caller's environment, as cpwd spawn");
      await waitFor("api's output", () => readFileSync(join(d.paths.workers, "W1", "logs", "stdout.log"), "utf8") === `${join(p.dir, "srv")}\nFOO=bar\n`);

      const again = apply(d.home, p.dir);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(lines(again.stdout), [
        ["unchanged", "api", "W1 (running)"],
        ["unchanged", "web", "W2 (running)"],
      ]);
      assert.equal((await worker(c, "api")).pid, api.pid, "not restarted");
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("a changed entry is restarted: a new command as a new run of the same worker, a new environment as a new worker of the same name", async () => {
  const p = project([
    { name: "api", command: SLEEP },
    { name: "web", command: SLEEP, env: { FOO: "one" } },
  ]);
  try {
    await withDaemon(async (d, c) => {
      assert.equal(apply(d.home, p.dir).code, 0);
      const api = await running(c, "api");
      await running(c, "web");
      p.write([
        { name: "api", command: ["/bin/sh", "-c", "echo second; exec sleep 300"] },
        { name: "web", command: SLEEP, env: { FOO: "two" } },
      ]);
      const dry = apply(d.home, p.dir, ["--dry-run"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(lines(dry.stdout), [
        ["would restart", "api", "W1 (command changed)"],
        ["would restart", "web", "W2 (env changed)"],
        ["(dry run: nothing was changed)"],
      ]);
      assert.equal((await worker(c, "api")).pid, api.pid, "a dry run touches nothing");

      const r = apply(d.home, p.dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lines(r.stdout), [
        ["restarted", "api", "W1 (command changed)"],
        ["restarted", "web", "W2 → W3 (env changed)"],
      ]);
      const rerun = await running(c, "api");
      assert.equal(rerun.id, "W1", "the same worker, its logs kept");
      assert.notEqual(rerun.pid, api.pid);
      assert.deepEqual(rerun.command, ["/bin/sh", "-c", "echo second; exec sleep 300"]);
      await waitFor("W1's second run's output", () => readFileSync(join(d.paths.workers, "W1", "logs", "stdout.log"), "utf8").endsWith("second\n"));
      assert.equal((await running(c, "web")).id, "W3");
      await waitFor("W3's output", () => readFileSync(join(d.paths.workers, "W3", "logs", "stdout.log"), "utf8").includes("FOO=two\n"));
      assert.equal((await c.call("worker.list")).workers.length, 2, "W2 is gone");
      assert.deepEqual(lines(apply(d.home, p.dir).stdout).map((l) => l[0]), ["unchanged", "unchanged"]);
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("an unchanged worker that has ended is started again", async () => {
  const p = project([{ name: "once", command: ["/bin/sh", "-c", "echo ran"] }]);
  try {
    await withDaemon(async (d, c) => {
      assert.equal(apply(d.home, p.dir).code, 0);
      await waitFor("once to exit", async () => (await worker(c, "once")).state === "exited");
      const r = apply(d.home, p.dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lines(r.stdout), [["started", "once", "W1 again (it had ended: exited)"]]);
      await waitFor("the second run", () => readFileSync(join(d.paths.workers, "W1", "logs", "stdout.log"), "utf8") === "ran\nran\n");
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("--prune stops and removes only what this file started; a listed name held by a worker started by hand is refused and left running", async () => {
  const p = project([
    { name: "keep", command: SLEEP },
    { name: "drop", command: SLEEP },
  ]);
  const other = project([{ name: "elsewhere", command: SLEEP }]);
  try {
    await withDaemon(async (d, c) => {
      assert.equal(apply(d.home, p.dir).code, 0);
      assert.equal(apply(d.home, other.dir).code, 0);
      const byHand = cpwd(d.home, ["spawn", "--name", "mine", "--", "sleep", "300"]);
      assert.equal(byHand.code, 0, byHand.stderr);
      const mine = await running(c, "mine");
      await running(c, "drop");

      p.write([
        { name: "keep", command: SLEEP },
        { name: "mine", command: ["sleep", "300"] },
      ]);
      const without = apply(d.home, p.dir);
      assert.equal(without.code, 1, "a refused entry fails the run");
      assert.deepEqual(lines(without.stdout), [
        ["unchanged", "keep", "W1 (running)"],
        ["failed", "mine", "a worker named mine exists already (W4), not started from cpwd.json; `cpwd rm mine` frees the name"],
        ["kept", "drop", "W2 (no longer in cpwd.json; --prune stops and removes it)"],
      ]);
      assert.equal(without.stderr, "cpwd apply: 1 of 3 failed\n");

      const pruned = apply(d.home, p.dir, ["--prune"]);
      assert.equal(pruned.code, 1);
      assert.deepEqual(lines(pruned.stdout).at(-1), ["stopped", "drop", "W2 (pruned: no longer in cpwd.json; removed)"]);
      const left = (await c.call("worker.list")).workers.map((w) => `${String(w.name)} ${String(w.state)}`);
      assert.deepEqual(left.sort(), ["elsewhere running", "keep running", "mine running"], "another file's worker and a hand-started one are untouched");
      assert.equal((await worker(c, "mine")).pid, mine.pid);
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  }
});

test("a bad file is refused before anything starts: each problem names the entry and the field; bad JSON gives its line and column", async () => {
  const p = project([
    { name: "ok", command: ["true"] },
    { name: "api", command: "npm start", timeout: "3 hours", restart: { mode: "sometimes", windw: "1m" } },
    { name: "ok", command: [], cwd: "nowhere", grace: 5 },
    { command: ["true"] },
  ]);
  try {
    await withDaemon(async (d, c) => {
      const r = apply(d.home, p.dir, ["cpwd.json"]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.stderr.trimEnd().split("\n"), [
        'cpwd.json: workers[1] "api": command: expected a list of arguments such as ["npm", "test"] (never run through a shell), got "npm start"',
        `cpwd.json: workers[1] "api": timeout: '3 hours' is not a duration (use e.g. 500ms, 10s, 30m, 2h)`,
        'cpwd.json: workers[1] "api": restart.mode: expected one of never|on-failure|always (got "sometimes")',
        'cpwd.json: workers[1] "api": restart.windw: unknown field',
        'cpwd.json: workers[2] "ok": command: must not be empty',
        `cpwd.json: workers[2] "ok": cwd: ${join(p.dir, "nowhere")} does not exist`,
        'cpwd.json: workers[2] "ok": grace: expected a duration such as "10s", "30m" or "2h", got 5',
        'cpwd.json: workers[2] "ok": name: workers[0] has this name already; a name identifies one worker',
        "cpwd.json: workers[3]: name: is required",
      ]);
      assert.equal((await c.call("worker.list")).workers.length, 0, "nothing started, not even the good entry");

      writeFileSync(p.file, '{\n  "workers": [\n    { "name": "x", }\n  ]\n}\n');
      const bad = apply(d.home, p.dir);
      assert.equal(bad.code, 1);
      // Line 3, column 20: the '}' after the comma. (V8 words the reason; its wording varies by version.)
      assert.match(bad.stderr, /^cpwd\.json:3:20: not valid JSON: \S.*\n$/);
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
});

test("without a file, apply says where it looked; a bad option is a usage error; no daemon is exit 3", async () => {
  await withHome(async (home) => {
    const empty = realpathSync(tempHome("cpwd-apply-none-"));
    try {
      const none = apply(home, empty);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^cpwd apply: no cpwd\.json or \.cpwd\.json in .* or a folder above it; name the file: cpwd apply FILE\n$/);
      const usage = apply(home, empty, ["--purge"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^cpwd apply: unknown option --purge\nusage: cpwd apply \[FILE\]/);
      writeFileSync(join(empty, "cpwd.json"), JSON.stringify({ workers: [{ name: "a", command: ["true"] }] }));
      const down = apply(home, empty);
      assert.equal(down.code, 3);
      assert.match(down.stderr, /the daemon is not running/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
