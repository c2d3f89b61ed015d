// `cpwd doctor` against real homes: a healthy one with its daemon running passes every check; a
// broken one fails each problem by name with its fix; it never needs the daemon to answer.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { serviceTargetFor } from "../../cli/commands/service.js";
import { processStartTime } from "../../src/platform/proc.js";
import { instanceLockDir, writeLockOwner } from "../../src/records/instance-lock.js";
import { CLI, cleanup, cpwd, startDaemon, tempHome, testEnv, withDaemon, withHome } from "../helpers/daemon.js";

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: "ok" | "warn" | "fail"; message: string; fix?: string }>;
}

/** A project folder, a user home for ~/.claude, a claude that answers --version, a service folder. */
function surroundings() {
  const root = tempHome("cpwd-doctor-");
  const dirs = { project: join(root, "project"), user: join(root, "user"), bin: join(root, "bin"), service: join(root, "service") };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  const claude = join(dirs.bin, "claude");
  writeFileSync(claude, "#!/bin/sh\necho '2.1.331 (Claude Code)'\n", { mode: 0o755 });
  const env = { HOME: dirs.user, CPWD_CLAUDE_BIN: claude, CPWD_SERVICE_DIR: dirs.service };
  return { ...dirs, env, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function doctor(home: string, project: string, env: Record<string, string>, json = true) {
  const r = cpwd(home, ["doctor", "--dir", project, ...(json ? ["--json"] : [])], env);
  return { ...r, report: json ? (JSON.parse(r.stdout) as Report) : undefined };
}

function byName(report: Report, name: string) {
  const check = report.checks.find((c) => c.name === name);
  assert.ok(check, `no check named ${name}`);
  return check;
}

/** Writes the login service's file as `cpwd service install` would, without asking a service manager. */
function writeServiceFile(home: string, env: Record<string, string>): void {
  const ctx = { env: testEnv(home, env), cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, cliScript: CLI, nodePath: process.execPath };
  const target = serviceTargetFor(ctx, "linux");
  writeFileSync(target.filePath, target.contents);
}

test("a healthy home with its daemon running passes every check: exit 0, --json lists each as ok", { skip: process.platform === "win32" }, async () => {
  const s = surroundings();
  try {
    await withDaemon(async (daemon) => {
      assert.equal(cpwd(daemon.home, ["hooks", "install", "--dir", s.project], s.env).code, 0);
      writeServiceFile(daemon.home, s.env);
      assert.equal(cpwd(daemon.home, ["spawn", "--name", "quick", "--", "true"], s.env).code, 0);

      const r = doctor(daemon.home, s.project, s.env);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.report!.ok, true);
      const names = r.report!.checks.map((c) => c.name);
      for (const name of ["node", "home", "permissions", "config", "socket", "daemon", "lock", "events", "seq", "fallback", "hooks", "mcp", "claude", "service"]) {
        assert.ok(names.includes(name), `${name} is checked`);
      }
      for (const c of r.report!.checks) assert.equal(c.status, "ok", `${c.name}: ${c.message} — ${c.fix ?? ""}`);
      assert.match(byName(r.report!, "daemon").message, new RegExp(`pid ${daemon.pid}`));
      assert.match(byName(r.report!, "lock").message, new RegExp(`held by the daemon \\(pid ${daemon.pid}\\)`));
      assert.match(byName(r.report!, "claude").message, /2\.1\.331 \(Claude Code\)/);

      const text = doctor(daemon.home, s.project, s.env, false);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^ok {4}node: /m);
      assert.match(text.stdout, /^all well$/m);
    });
  } finally {
    s.remove();
  }
});

/** events.jsonl with a line that is not an event inserted after line 2, and seq 5 taken out. */
function breakRecord(events: string): void {
  const lines = readFileSync(events, "utf8").trimEnd().split("\n");
  assert.ok(lines.length >= 6, "enough events to break");
  lines.splice(4, 1);
  lines.splice(2, 0, '{"v":1,"seq": not json');
  writeFileSync(events, `${lines.join("\n")}\n`);
}

test("a broken home exits 1 and names each problem with its fix; the daemon being down is a warning", { skip: process.platform === "win32" }, async () => {
  const s = surroundings();
  const d = await startDaemon();
  try {
    assert.equal(cpwd(d.home, ["spawn", "--name", "one", "--", "true"], s.env).code, 0);
    assert.equal(cpwd(d.home, ["spawn", "--name", "two", "--", "true"], s.env).code, 0);
    await d.stop();
    breakRecord(d.paths.events);
    chmodSync(join(d.home, "workers", "W1", "spec.json"), 0o644);
    assert.equal(cpwd(d.home, ["hooks", "install", "--dir", s.project], s.env).code, 0);
    const settingsFile = join(s.project, ".claude", "settings.json");
    const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
    settings.hooks.PreToolUse[0].hooks[0].timeout = 99; // as an older cpwd, or a hand, left it
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
    const env = { ...s.env, CPWD_CLAUDE_BIN: "/nonexistent/claude" };

    const r = doctor(d.home, s.project, env);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.report!.ok, false);
    const expected: Record<string, [RegExp, RegExp]> = {
      events: [/1 line of events\.jsonl does not parse \(line 3\)/, /`cpwd stop`, then move line 3 of .*events\.jsonl into events\.quarantine\.jsonl/],
      seq: [/seq breaks at 4 → 6 \(1 event missing\)/, /restore it from a backup/],
      permissions: [/1 readable by others .*W1\/spec\.json/, /`chmod go-rwx .*W1\/spec\.json`/],
      hooks: [/settings\.json is not current: another command or timeout for PreToolUse/, /`cpwd hooks install --dir /],
      claude: [/\/nonexistent\/claude not found \(CPWD_CLAUDE_BIN\)/, /install Claude Code, or point CPWD_CLAUDE_BIN/],
    };
    for (const [name, [what, fix]] of Object.entries(expected)) {
      const c = byName(r.report!, name);
      assert.equal(c.status, "fail", `${name}: ${c.message}`);
      assert.match(c.message, what, name);
      assert.match(c.fix ?? "", fix, name);
    }
    const daemon = byName(r.report!, "daemon");
    assert.deepEqual([daemon.status, daemon.message, daemon.fix], ["warn", "not running", "`cpwd start`"]);
    const failing = r.report!.checks.filter((c) => c.status === "fail").map((c) => c.name);
    assert.deepEqual(failing.sort(), Object.keys(expected).sort(), "nothing else fails");

    const text = doctor(d.home, s.project, env, false);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^warn {2}daemon: +not running — `cpwd start`$/m);
    assert.match(text.stdout, /^fail {2}seq: +seq breaks at 4 → 6 \(1 event missing\) — /m);
    assert.match(text.stdout, /^5 failing, \d+ warnings?$/m);
  } finally {
    await cleanup(d);
    s.remove();
  }
});

test("a lock held by a live process that does not answer is named, with the pid to kill", { skip: process.platform === "win32" }, async () => {
  await withHome(async (home) => {
    const holder = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const lockDir = instanceLockDir(join(home, "events.jsonl"));
      mkdirSync(lockDir, { mode: 0o700 });
      writeLockOwner(lockDir, { pid: holder.pid!, startTime: processStartTime(holder.pid!) }, { exclusive: true });
      const r = cpwd(home, ["doctor", "--json"], { HOME: home, CPWD_CLAUDE_BIN: "/bin/true" });
      const lock = byName(JSON.parse(r.stdout) as Report, "lock");
      assert.equal(lock.status, "fail");
      assert.match(lock.message, new RegExp(`held by pid ${holder.pid}, which is alive but does not answer`));
      assert.match(lock.fix ?? "", new RegExp(`\`kill ${holder.pid}\``));
      assert.equal(r.code, 1);
    } finally {
      holder.kill("SIGKILL");
    }
  });
});

test("a home that does not exist yet is a warning, not a failure or a crash", async () => {
  await withHome(async (parent) => {
    const home = join(parent, "not-yet");
    const r = cpwd(home, ["doctor", "--json"], { HOME: parent, CPWD_CLAUDE_BIN: "/bin/true" });
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(byName(report, "home").status, "warn");
    assert.match(byName(report, "home").fix ?? "", /`cpwd start` creates it/);
    assert.deepEqual(report.checks.filter((c) => c.status === "fail"), []);
    assert.equal(r.code, 0, r.stdout);
  });
});
