// What a user meets at the edges of the CLI: --help on every command, a bad option named with its
// command, a missing claude binary refused up front, a worker whose command does not exist
// explained, a name in use, and `cpwd events` saying where to go on.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, tempHome, waitFor } from "../helpers/daemon.js";

const COMMANDS = ["daemon", "start", "stop", "status", "spawn", "claude", "kill", "restart", "rm", "logs", "replay", "claims", "release", "events", "mcp", "hooks", "service", "apply", "config"];

test("every command answers --help (and -h) with its usage, exit 0, without a daemon", () => {
  const home = tempHome();
  for (const name of COMMANDS) {
    for (const flag of ["--help", "-h"]) {
      const r = cpwd(home, [name, flag]);
      assert.equal(r.code, 0, `${name} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: cpwd ${name}\\b`), name);
      assert.equal(r.stderr, "");
    }
  }
  // After `--`, --help belongs to the worker's command.
  const r = cpwd(home, ["spawn", "--", "ls", "--help"]);
  assert.doesNotMatch(r.stdout, /usage:/);
});

test("a bad option is named with its command, exit 2, no error code or stack", () => {
  const home = tempHome();
  const badValue = cpwd(home, ["events", "--from", "x"]);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /^cpwd events: --from must be a whole number ≥ 0 \(got x\)\nusage: cpwd events/);
  for (const name of ["status", "claims", "events", "replay", "logs"]) {
    const r = cpwd(home, [name, "--bogus"]);
    assert.equal(r.code, 2, name);
    assert.match(r.stderr, new RegExp(`^cpwd ${name}: unknown option --bogus\\n`), name);
    assert.doesNotMatch(r.stderr, /INVALID_ARGUMENT|\n\s+at /);
  }
});

test("cpwd claude refuses a claude binary it cannot find, before starting anything", async () => {
  const d = await startDaemon();
  try {
    const r = cpwd(d.home, ["claude", "hello"], { CPWD_CLAUDE_BIN: "", PATH: "/nonexistent" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cpwd claude: claude not found on PATH; install Claude Code, or point CPWD_CLAUDE_BIN/);
    const abs = cpwd(d.home, ["claude", "hello"], { CPWD_CLAUDE_BIN: "/nonexistent/claude" });
    assert.match(abs.stderr, /\/nonexistent\/claude not found;/);
    const c = await d.client();
    assert.equal((await c.call("worker.list")).workers.length, 0, "no worker was spawned");

    // A relative CPWD_CLAUDE_BIN names a file from where cpwd was called, whatever --cwd says:
    // the worker runs it by absolute path.
    const binDir = tempHome("cpwd-fake-claude-");
    const fake = join(binDir, "fakeclaude");
    writeFileSync(fake, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const ok = cpwd(d.home, ["claude", "--cwd", "/", "hello"], { CPWD_CLAUDE_BIN: relative(process.cwd(), fake) });
    assert.equal(ok.code, 0, ok.stderr);
    const w = await waitFor("the fake claude to exit", async () => {
      const v = (await c.call("worker.get", { target: ok.stdout.trim() })).workers[0];
      return v?.state === "exited" ? v : null;
    });
    assert.equal((w.command as string[])[0], fake);
    c.close();
  } finally {
    await cleanup(d);
  }
});

test("a worker whose command does not exist says so in status; a name in use says how to free it", async () => {
  const d = await startDaemon();
  try {
    const r = cpwd(d.home, ["spawn", "--name", "ghost", "--", "/bin/sh", "-c", "exec no-such-command-anywhere"]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const c = await d.client();
    const w = await waitFor("the worker to fail", async () => {
      const v = (await c.call("worker.get", { target: id })).workers[0];
      return v?.state === "failed" ? v : null;
    });
    c.close();
    assert.equal(w.exitCode, 127);
    assert.ok(Date.parse(String(w.endedAt)) >= Date.parse(String(w.startedAt)), `ended ${String(w.endedAt)} before it started ${String(w.startedAt)}`);
    assert.match(String(w.reason), new RegExp(`exit 127: the command was not found, as a rule; see \`cpwd logs ${id} --stderr\``));
    assert.match(cpwd(d.home, ["status"]).stdout, /exit 127: the command was not found/);
    const again = cpwd(d.home, ["spawn", "--name", "ghost", "--", "true"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /a worker named ghost exists already; `cpwd rm ghost` forgets it once it has ended/);
  } finally {
    await cleanup(d);
  }
});

test("cpwd events prints 100 at a time and says where to go on", async () => {
  const d = await startDaemon();
  try {
    const c = await d.client();
    for (let i = 0; i < 120; i++) await c.call("events.append", { type: "ext.test", payload: { i } });
    const lastSeq = (await c.call("status")).lastSeq as number;
    c.close();
    const first = cpwd(d.home, ["events", "--from", "1"]);
    assert.equal(first.code, 0);
    const lines = first.stdout.trim().split("\n");
    assert.equal(lines.length, 100);
    const next = Number(/^\s*(\d+)/.exec(lines.at(-1)!)![1]) + 1;
    assert.equal(first.stderr, `… more may follow: cpwd events --from ${next} (last seq ${lastSeq})\n`);
    const rest = cpwd(d.home, ["events", "--from", String(next), "--json"]);
    assert.equal(rest.stderr, "", "nothing more to say at the end");
    assert.equal(JSON.parse(rest.stdout.trim().split("\n").at(-1)!).seq, lastSeq);
  } finally {
    await cleanup(d);
  }
});

test("a --worktree worker refused outside a git repository leaves nothing behind; its number is not reused", async () => {
  const d = await startDaemon();
  try {
    const notGit = tempHome("cpwd-not-git-");
    const r = cpwd(d.home, ["claude", "--worktree", "--cwd", notGit, "hello"], { CPWD_CLAUDE_BIN: "/bin/true" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /git/i);
    assert.equal(existsSync(join(d.paths.workers, "W1")), false, "no empty worker folder");
    const next = cpwd(d.home, ["spawn", "--", "true"]);
    assert.equal(next.stdout.trim(), "W2");
  } finally {
    await cleanup(d);
  }
});
