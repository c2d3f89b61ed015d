// What a new user meets on a first day, against the real daemon and real processes: a `cpwd start`
// that fails shows this start's error only; `restart` and `kill` say what they did and the record
// keeps it (RESTARTS counts a user's restart, a killed worker's end says killed); a worker stopped
// during its restart backoff says so with its runs; a digest names why a worker never started.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { cpwd, pathsFor, waitFor, withDaemon, withHome } from "../helpers/daemon.js";
import { fixture, liveWorker } from "../helpers/fixtures.js";

type View = Record<string, any>;

async function until(c: RpcClient, id: string, pred: (w: View) => boolean, what: string): Promise<View> {
  return waitFor(`${id} ${what}`, async () => {
    const w = (await c.call("worker.get", { target: id })).workers[0] as View | undefined;
    return w && pred(w) ? w : null;
  }, 15_000, 20);
}

/** The RESTARTS cell of a worker's row in `cpwd status`. */
function restartsColumn(home: string, id: string): string {
  const lines = cpwd(home, ["status"], { COLUMNS: "200" }).stdout.split("\n");
  const head = lines.find((l) => l.startsWith("ID "))!.split(/\s{2,}/);
  const row = lines.find((l) => l.startsWith(`${id} `))!.split(/\s{2,}/);
  return row[head.indexOf("RESTARTS")]!;
}

test("cpwd start after a bad config.json shows this start's error, not the one before it", () => withHome((home) => {
  const config = pathsFor(home).config;
  writeFileSync(config, '{"maxParallel": 0}');
  const first = cpwd(home, ["start"]);
  assert.equal(first.code, 1);
  // In the words `cpwd config set` uses, not zod's ("Too small: expected number to be >=1").
  assert.match(first.stderr, /config\.json: maxParallel: must be ≥ 1 \(got 0\)\n/);
  assert.doesNotMatch(first.stderr, /Too small|expected number/);
  writeFileSync(config, '{"logFiles": "three"}');
  const second = cpwd(home, ["start"]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /^cpwd start: the daemon exited with code 1; it said \(in .*daemon\.log\):\n/);
  assert.match(second.stderr, /config\.json: logFiles: expected a number, got "three"\n/);
  assert.doesNotMatch(second.stderr, /maxParallel/, "the first start's error is not shown again");
}));

test("cpwd restart says restarting and counts in RESTARTS; cpwd kill says killed and the end says so", () => withDaemon(async (d, c) => {
  const id = await liveWorker(c);
  const before = await until(c, id, (w) => w.state === "running", "to run");
  assert.equal(restartsColumn(d.home, id), "0");

  const restarted = cpwd(d.home, ["restart", id]);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.equal(restarted.stdout, `${id} restarting\n`);
  const again = await until(c, id, (w) => w.state === "running" && w.pid !== before.pid, "to run again");
  assert.equal(again.restarts, 1, "a restart the user asked for counts");
  assert.equal(restartsColumn(d.home, id), "1");

  const killed = cpwd(d.home, ["kill", id]);
  assert.equal(killed.code, 0, killed.stderr);
  assert.equal(killed.stdout, `${id} killed\n`);
  const end = await until(c, id, (w) => w.state === "stopped", "to end");
  assert.equal(end.signal, "SIGKILL");
  assert.equal(end.reason, "killed (SIGKILL) by `cpwd kill`");
  assert.match(cpwd(d.home, ["status"], { COLUMNS: "200" }).stdout, new RegExp(`^${id}: killed \\(SIGKILL\\) by \`cpwd kill\`$`, "m"));

  // An ended worker restarted from the CLI counts too.
  assert.equal(cpwd(d.home, ["restart", id]).stdout, `${id} restarting\n`);
  assert.equal((await until(c, id, (w) => w.state === "running", "to run a third time")).restarts, 2);
  assert.match(cpwd(d.home, ["status", id]).stdout, /restarts {2}2 \(0 by the restart policy, 2 by `cpwd restart`\), 3 runs in all/);
}));

test("a --restart always worker stopped during its backoff says so, with how many runs it had", () => withDaemon(async (d, c) => {
  const r = cpwd(d.home, ["spawn", "--restart", "always", "--backoff", "1s..60s", "--max-restarts", "10", "--", "true"]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  // Backoffs of 0.5–1 s, 1–2 s, then 2–4 s: time enough to stop it in the third.
  await until(c, id, (w) => w.state === "backoff" && w.restarts === 3, "to back off after its third run");
  const stopped = cpwd(d.home, ["stop", id]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout, `${id} stopped\n`);
  const w = await until(c, id, (x) => x.state === "stopped", "to be stopped");
  assert.equal(w.reason, "stopped during its restart backoff (after 3 runs)");
  assert.match(cpwd(d.home, ["status"], { COLUMNS: "200" }).stdout, new RegExp(`^${id}: stopped during its restart backoff \\(after 3 runs\\)$`, "m"));
}));

test("a worker that could not start is told in a digest by its reason, not as exit null", () => withDaemon({ config: { maxParallel: 1 } }, async (d, c) => {
  const blocker = await liveWorker(c);
  const gone = mkdtempSync(join(tmpdir(), "cpwd-gone-"));
  const r = cpwd(d.home, ["spawn", "--name", "homeless", "--cwd", gone, "--", process.execPath, fixture("exit.js"), "0"]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  // Queued behind the blocker; its folder goes before its turn comes.
  rmSync(gone, { recursive: true });
  await c.call("worker.stop", { target: blocker, graceMs: 0 });
  const w = await until(c, id, (x) => x.state === "failed", "to fail to start");
  assert.equal(w.startedAt, null, "it never started");
  assert.match(String(w.reason), /^could not start: /);
  const reply = await c.call("hook.handle", { event: { hook_event_name: "SessionStart", session_id: "first-use", source: "startup" } });
  const text = String((reply.output as any)?.hookSpecificOutput?.additionalContext);
  assert.match(text, new RegExp(`- ${id} "homeless" failed \\(could not start: `));
  assert.doesNotMatch(text, /exit null/);
}));
