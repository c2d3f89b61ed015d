// What a user meets at the edges of the CLI: --help on every command, a bad option named with its
// command, a missing claude binary refused up front, a worker whose command does not exist
// explained, a name in use, and `cpwd events` saying where to go on.
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { cleanup, cpwd, startDaemon, tempHome, waitFor } from "../helpers/daemon.js";

/** Temp folders this file makes (homes without a daemon, a fake claude's, a folder outside git): removed at the end. */
const made: string[] = [];
const scratch = (prefix?: string): string => {
  const dir = tempHome(prefix);
  made.push(dir);
  return dir;
};
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const COMMANDS = ["daemon", "start", "stop", "status", "spawn", "claude", "kill", "restart", "rm", "logs", "replay", "claims", "release", "events", "mcp", "hooks", "service", "apply", "config"];

test("every command answers --help (and -h) with its usage, exit 0, without a daemon", () => {
  const home = scratch();
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
  const home = scratch();
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

test("cpwd help COMMAND prints that command's usage, as COMMAND --help does; an unknown one is a usage error", () => {
  const home = scratch();
  for (const name of COMMANDS) {
    const r = cpwd(home, ["help", name]);
    assert.equal(r.code, 0, `help ${name}: ${r.stderr}`);
    assert.equal(r.stdout, cpwd(home, [name, "--help"]).stdout, name);
    assert.match(r.stdout, new RegExp(`^usage: cpwd ${name}\\b`), name);
  }
  assert.match(cpwd(home, ["help", "spawn"]).stdout, /--restart never\|on-failure\|always/);
  const unknown = cpwd(home, ["help", "frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^cpwd help: unknown command 'frobnicate'\nusage: cpwd <command>/);
});

test("every bad option exits 2 with a plain sentence and the command's usage line, before any daemon is asked", () => {
  const home = scratch();
  const cases: Array<[string[], RegExp]> = [
    [["spawn", "--name", "", "--", "true"], /--name is empty/],
    [["spawn", "--name", "a b", "--", "true"], /--name 'a b' may hold only letters, digits, '\.', '_' and '-'/],
    [["spawn", "--name", "x".repeat(65), "--", "true"], /--name 'x+' is longer than 64 characters/],
    [["spawn", "--grace", "--", "true"], /--grace needs a value/],
    [["spawn", "--grace", "2d", "--", "true"], /--grace: '2d' is out of range \(at most 1d 0h\)/],
    [["spawn", "--timeout", "0", "--", "true"], /--timeout: '0' is out of range \(more than 0ms\)/],
    [["spawn", "--restart-window", "500ms", "--", "true"], /--restart-window: '500ms' is out of range \(at least 1s\)/],
    [["spawn", "--max-restarts", "100000", "--", "true"], /--max-restarts: '100000' is out of range \(at most 10000\)/],
    [["claude", "--name", "", "hello"], /--name is empty/],
    [["logs", "W1", "-n", "x"], /-n must be a whole number ≥ 0 \(got x\)/],
    [["stop", "--bogus"], /unknown option --bogus/],
    [["stop", "W1", "--grace", "soon"], /--grace: 'soon' is not a duration/],
    [["kill"], /name at least one worker \(W3, a name, or all\)/],
    [["restart", "--bogus", "W1"], /unknown option --bogus/],
    [["rm", "W1", "--grace", "1s"], /unknown option --grace/],
    [["status", "--bogus"], /unknown option --bogus/],
    [["events", "-n", "x"], /--lines must be a whole number ≥ 0 \(got x\)/],
    [["replay", "--at", "x"], /--at must be a seq \(a whole number\), got x/],
    [["release"], /name a claimed file or a worker \(W3\)/],
    [["config", "set", "maxParallel"], /set maxParallel needs a value/],
    [["start", "now"], /takes no arguments \(got now\)/],
    [["daemon", "now"], /takes no arguments \(got now\)/],
    [["mcp", "--bogus"], /takes no arguments \(got --bogus\); Claude Code starts it/],
    [["diff"], /name one worker \(W3 or a name\)/],
    [["merge", "W1", "--bogus"], /unknown option --bogus/],
    [["apply", "--bogus"], /unknown option --bogus/],
    [["doctor", "--bogus"], /unknown option --bogus/],
    [["doctor", "now"], /unexpected argument now/],
    [["claims", "x"], /unexpected argument x/],
    [["status", "W1", "W2"], /unexpected argument W2/],
    [["ui", "--port", "x"], /--port must be a port number, 0 to 65535 \(got x\)/],
  ];
  for (const [args, sentence] of cases) {
    const r = cpwd(home, args, { CPWD_CLAUDE_BIN: "/bin/true" });
    const name = args[0]!;
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^cpwd ${name}: ${sentence.source}.*\\n(.*\\n)*usage: cpwd ${name}\\b`), args.join(" "));
    assert.doesNotMatch(r.stderr, /INVALID_ARGUMENT|Too small|expected string|\n\s+at /, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  // A negative number is a value, not an unknown option: the config's own check answers it.
  const negative = cpwd(home, ["config", "set", "maxParallel", "-1"]);
  assert.match(negative.stderr, /maxParallel: must be ≥ 1 \(got -1\)/);
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
    const binDir = scratch("cpwd-fake-claude-");
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
    const notGit = scratch("cpwd-not-git-");
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
