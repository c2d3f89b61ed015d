// `cpwd hooks install`: the merge rules on plain objects, then the compiled CLI on real files
// (scopes, idempotence to the byte, invalid JSON left untouched, dry run, uninstall, status).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  CPWD_HOOK_EVENTS,
  cpwdGroup,
  hookTimeoutSec,
  inspectHooks,
  installHooks,
  parseSettings,
  shimCommand,
  uninstallHooks,
  type Settings,
} from "../../cli/hooks-install/install.js";
import { SKILL_MARK, SKILL_TEXT } from "../../cli/hooks-install/skill.js";
import { cpwd, tempHome } from "../helpers/daemon.js";

const HOOK = { command: '"/usr/bin/node" "/opt/cpwd/dist/hooks/cpwd-hook.cjs"', timeoutSec: 5 };
const foreignBash = { matcher: "Bash", hooks: [{ type: "command", command: "./audit.sh" }] };
const foreignStop = { hooks: [{ type: "command", command: "notify-send done", timeout: 3 }] };
const userSettings: Settings = {
  permissions: { allow: ["Bash(npm test)"] },
  model: "opus",
  hooks: { PreToolUse: [foreignBash], Stop: [foreignStop], FileChanged: [{ hooks: [{ type: "command", command: "make" }] }] },
};

describe("merging cpwd's hooks into settings", () => {
  test("into nothing: one cpwd group per event, every tool matched on the tool events", () => {
    const s = installHooks({}, HOOK) as { hooks: Record<string, any[]> };
    assert.deepEqual(Object.keys(s.hooks), [...CPWD_HOOK_EVENTS]);
    for (const event of CPWD_HOOK_EVENTS) {
      assert.equal(s.hooks[event]!.length, 1);
      assert.deepEqual(s.hooks[event]![0].hooks, [{ type: "command", command: HOOK.command, timeout: 5 }]);
    }
    assert.equal(s.hooks.PreToolUse![0].matcher, "*");
    assert.equal(s.hooks.PostToolUse![0].matcher, "*");
    assert.equal("matcher" in s.hooks.SessionStart![0], false);
  });

  test("the events of Claude Code's own work (subagents, tasks, teammates) are among those installed", () => {
    const s = installHooks({}, HOOK) as { hooks: Record<string, any[]> };
    for (const event of ["SubagentStart", "SubagentStop", "TaskCreated", "TaskCompleted", "TeammateIdle"]) {
      assert.ok(event in s.hooks, `${event} is installed`);
    }
  });

  test("other settings and other hooks are kept, in their order, ahead of ours", () => {
    const s = installHooks(userSettings, HOOK) as { hooks: Record<string, any[]> } & Settings;
    assert.deepEqual(s.permissions, userSettings.permissions);
    assert.equal(s.model, "opus");
    assert.deepEqual(s.hooks.PreToolUse, [foreignBash, cpwdGroup("PreToolUse", HOOK)]);
    assert.deepEqual(s.hooks.Stop, [foreignStop, cpwdGroup("Stop", HOOK)]);
    assert.deepEqual(s.hooks.FileChanged, (userSettings.hooks as any).FileChanged);
    assert.deepEqual(userSettings.hooks, { PreToolUse: [foreignBash], Stop: [foreignStop], FileChanged: [{ hooks: [{ type: "command", command: "make" }] }] }, "input not mutated");
  });

  test("installing twice gives the same settings", () => {
    const once = installHooks(userSettings, HOOK);
    assert.deepEqual(installHooks(once, HOOK), once);
  });

  test("an older cpwd entry is replaced where it stands, not duplicated", () => {
    const old = { matcher: "Write|Edit", hooks: [{ type: "command", command: "cpwd-hook", timeout: 2 }] };
    const s = installHooks({ hooks: { PreToolUse: [foreignBash, old, foreignStop] } }, HOOK) as { hooks: Record<string, any[]> };
    assert.deepEqual(s.hooks.PreToolUse, [foreignBash, cpwdGroup("PreToolUse", HOOK), foreignStop]);
  });

  test("a group mixing a foreign hook with ours keeps the foreign one; ours gets its own group", () => {
    const mixed = { matcher: "*", hooks: [{ type: "command", command: "./lint.sh" }, { type: "command", command: "/x/cpwd-hook" }] };
    const s = installHooks({ hooks: { PostToolUse: [mixed] } }, HOOK) as { hooks: Record<string, any[]> };
    assert.deepEqual(s.hooks.PostToolUse, [{ matcher: "*", hooks: [{ type: "command", command: "./lint.sh" }] }, cpwdGroup("PostToolUse", HOOK)]);
  });

  test("groups cpwd cannot read are left as they are", () => {
    const odd = ["not a group", { matcher: "Bash" }, { hooks: "nope" }];
    const s = installHooks({ hooks: { PreToolUse: odd } }, HOOK) as { hooks: Record<string, any[]> };
    assert.deepEqual(s.hooks.PreToolUse, [...odd, cpwdGroup("PreToolUse", HOOK)]);
    assert.deepEqual(uninstallHooks(s), { hooks: { PreToolUse: odd } });
  });

  test("uninstall takes out only cpwd's entries and gives back what was there", () => {
    for (const before of [{}, userSettings, { hooks: { Stop: [foreignStop] } }, { hooks: { PreToolUse: [foreignBash] }, env: { A: "1" } }]) {
      assert.deepEqual(uninstallHooks(installHooks(before, HOOK)), before, JSON.stringify(before));
    }
    // Lists and a hooks object that only cpwd filled go entirely (an empty list of the user's goes with them: same meaning).
    assert.deepEqual(uninstallHooks({ model: "x", hooks: { Stop: [cpwdGroup("Stop", HOOK)] } }), { model: "x" });
    assert.deepEqual(uninstallHooks(userSettings), userSettings, "nothing of ours: unchanged");
  });

  test("status tells current, outdated and missing apart", () => {
    const installed = installHooks(userSettings, HOOK);
    assert.ok(Object.values(inspectHooks(installed, HOOK)).every((p) => p === "current"));
    assert.ok(Object.values(inspectHooks(userSettings, HOOK)).every((p) => p === "missing"));
    const slower = inspectHooks(installed, { ...HOOK, timeoutSec: 9 });
    assert.ok(Object.values(slower).every((p) => p === "outdated"));
    const partial = inspectHooks({ hooks: { Stop: [cpwdGroup("Stop", HOOK)] } }, HOOK);
    assert.equal(partial.Stop, "current");
    assert.equal(partial.PreToolUse, "missing");
  });
});

describe("reading a settings file", () => {
  test("absent or blank is empty; a BOM is accepted", () => {
    assert.deepEqual(parseSettings(undefined, "f"), {});
    assert.deepEqual(parseSettings(" \n", "f"), {});
    assert.deepEqual(parseSettings('\ufeff{"model":"x"}', "f"), { model: "x" });
  });

  test("anything else that is not a settings object is refused with the file named", () => {
    const cases: Array<[string, RegExp]> = [
      ['{"hooks": {', /s\.json is not valid JSON .*left untouched/],
      ["[1,2]", /must hold a JSON object/],
      ['"text"', /must hold a JSON object/],
      ['{"hooks": []}', /"hooks" must be an object/],
      ['{"hooks": {"PreToolUse": {}}}', /"hooks\.PreToolUse" must be an array/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseSettings(text, "/p/.claude/s.json"), (err: any) => err.code === "INVALID_CONFIG" && message.test(err.message), text);
    }
  });
});

describe("the hook command and its timeout", () => {
  test("paths with spaces, quotes, $ and backticks survive the shell Claude Code runs hooks with", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpwd hooks $HOME `x` \"q\" \\ "));
    try {
      const script = join(dir, "cpwd-hook.cjs");
      writeFileSync(script, "process.stdout.write(JSON.stringify(process.argv.slice(1)))");
      const r = spawnSync("/bin/sh", ["-c", shimCommand(process.execPath, script)], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [script]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Claude Code's timeout always leaves the shim a second beyond its whole budget", () => {
    for (const budget of [50, 999, 1000, 1001, 2500, 30_000]) assert.ok(hookTimeoutSec(budget) * 1000 >= budget + 1000, String(budget));
    assert.equal(hookTimeoutSec(1000), 5);
  });
});

describe("the skill", () => {
  test("tells the model to prefer the mcp__cpwd__ tools, gathering with wait_for_workers, over the commands", () => {
    const section = /^## Prefer the cpwd tools\n([\s\S]*?)\n## /m.exec(SKILL_TEXT)?.[1];
    assert.ok(section, "the skill has its section on the tools");
    assert.match(section, /When the `mcp__cpwd__\*` tools are available, use them rather than the commands below/);
    assert.match(section, /gather with `wait_for_workers`/);
    for (const tool of ["claude_worker", "spawn_worker", "list_workers", "worker_status", "worker_logs", "worker_diff", "stop_worker"]) assert.ok(section.includes(`\`${tool}\``), tool);
  });
});

describe("cpwd hooks (compiled CLI, real files)", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function project(settings?: string, file = "settings.json"): { dir: string; home: string; cpwdHome: string; file: string; skill: string } {
    const dir = tempHome("cpwd-hooks-");
    dirs.push(dir);
    mkdirSync(join(dir, "home"));
    mkdirSync(join(dir, ".claude"));
    if (settings !== undefined) writeFileSync(join(dir, ".claude", file), settings);
    return { dir, home: join(dir, "home"), cpwdHome: join(dir, "cpwd"), file: join(dir, ".claude", file), skill: join(dir, ".claude", "skills", "cpwd", "SKILL.md") };
  }
  const hooks = (p: { cpwdHome: string; home: string; dir: string }, ...args: string[]) => cpwd(p.cpwdHome, ["hooks", ...args, "--dir", p.dir], { HOME: p.home });

  test("install merges into the project's settings and writes the skill; a second run changes no byte", () => {
    const p = project(JSON.stringify(userSettings));
    const first = hooks(p, "install");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`installed in .*settings\\.json \\(${CPWD_HOOK_EVENTS.length} events, timeout 5 s\\)`));
    const written = JSON.parse(readFileSync(p.file, "utf8"));
    assert.deepEqual(written.permissions, userSettings.permissions);
    assert.equal(written.hooks.PreToolUse.length, 2);
    assert.match(written.hooks.PreToolUse[1].hooks[0].command, /cpwd-hook\.cjs"$/);
    assert.equal(readFileSync(p.skill, "utf8"), SKILL_TEXT);
    const bytes = readFileSync(p.file);
    const mtime = statSync(p.file).mtimeMs;
    const second = hooks(p, "install");
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already installed .*nothing changed/);
    assert.deepEqual(readFileSync(p.file), bytes);
    assert.equal(statSync(p.file).mtimeMs, mtime, "not rewritten");
    assert.equal(hooks(p, "status").code, 0);
  });

  test("a settings file that is not JSON is left untouched, nothing else is written, and the error says why", () => {
    const broken = '{ "hooks": { "PreToolUse": [ }\n';
    const p = project(broken);
    for (const action of ["install", "uninstall", "status"]) {
      const r = hooks(p, action);
      assert.equal(r.code, 1, action);
      assert.match(r.stderr, /settings\.json is not valid JSON \(.+\); left untouched/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    assert.equal(readFileSync(p.file, "utf8"), broken);
    assert.equal(existsSync(p.skill), false);
  });

  test("--dry-run prints the result and writes nothing", () => {
    const p = project();
    const r = hooks(p, "install", "--dry-run");
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout.split("\n").filter((l) => !l.startsWith("#")).join("\n"));
    assert.deepEqual(Object.keys(json.hooks), [...CPWD_HOOK_EVENTS]);
    assert.equal(existsSync(p.file), false);
    assert.equal(existsSync(p.skill), false);
  });

  test("the local and user scopes write their own files", () => {
    const p = project();
    assert.equal(hooks(p, "install", "--scope", "local").code, 0);
    assert.ok(JSON.parse(readFileSync(join(p.dir, ".claude", "settings.local.json"), "utf8")).hooks.Stop);
    assert.equal(existsSync(p.file), false);
    assert.equal(hooks(p, "install", "--scope", "user").code, 0);
    assert.ok(JSON.parse(readFileSync(join(p.home, ".claude", "settings.json"), "utf8")).hooks.SessionStart);
    assert.equal(readFileSync(join(p.home, ".claude", "skills", "cpwd", "SKILL.md"), "utf8"), SKILL_TEXT);
  });

  test("uninstall leaves the user's hooks and settings; status goes 3 → 0 → 3", () => {
    const p = project(JSON.stringify(userSettings, null, 2));
    assert.equal(hooks(p, "status").code, 3);
    assert.equal(hooks(p, "install").code, 0);
    assert.equal(hooks(p, "status").code, 0);
    const r = hooks(p, "uninstall");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(p.file, "utf8")), userSettings);
    assert.equal(existsSync(join(p.dir, ".claude", "skills")), false, "the skill and its empty folders are gone");
    assert.equal(hooks(p, "status").code, 3);
  });

  test("project and local share the skill: uninstalling one keeps it while the other has the hooks", () => {
    const p = project();
    assert.equal(hooks(p, "install").code, 0);
    assert.equal(hooks(p, "install", "--scope", "local").code, 0);
    const off = hooks(p, "uninstall", "--scope", "local");
    assert.match(off.stdout, /kept .*SKILL\.md: .*settings\.json still has cpwd hooks/);
    assert.equal(readFileSync(p.skill, "utf8"), SKILL_TEXT);
    assert.equal(hooks(p, "status").code, 0);
    // A skill gone from under an install is reported, and counts.
    rmSync(p.skill);
    const st = hooks(p, "status");
    assert.equal(st.code, 3);
    assert.match(st.stdout, /SKILL\.md: absent; run `cpwd hooks install`/);
    assert.equal(hooks(p, "install").code, 0);
    assert.equal(hooks(p, "status").code, 0);
    assert.match(hooks(p, "uninstall").stdout, /skill removed/);
  });

  test("a skill of the user's own named cpwd is never overwritten or removed", () => {
    const p = project();
    mkdirSync(join(p.dir, ".claude", "skills", "cpwd"), { recursive: true });
    writeFileSync(p.skill, "my own notes\n");
    assert.match(hooks(p, "install").stdout, /kept .*SKILL\.md: it was not written by cpwd/);
    hooks(p, "uninstall");
    assert.equal(readFileSync(p.skill, "utf8"), "my own notes\n");
    assert.ok(!readFileSync(p.skill, "utf8").includes(SKILL_MARK));
  });

  test("a symlinked settings file is written at its target and stays a link", () => {
    const p = project();
    const target = join(p.dir, "dotfiles-settings.json");
    writeFileSync(target, '{"model":"x"}');
    symlinkSync(target, p.file);
    assert.equal(hooks(p, "install").code, 0);
    assert.ok(lstatSync(p.file).isSymbolicLink());
    assert.ok(JSON.parse(readFileSync(target, "utf8")).hooks.PreToolUse);

    // A link to a file not there yet (a fresh dotfiles checkout): created at the target.
    const q = project();
    const later = join(q.dir, "dotfiles", "claude-settings.json");
    symlinkSync(later, q.file);
    assert.equal(hooks(q, "install").code, 0);
    assert.ok(lstatSync(q.file).isSymbolicLink());
    assert.ok(JSON.parse(readFileSync(later, "utf8")).hooks.Stop);
  });

  test("bad arguments are refused before anything is read", () => {
    const p = project();
    for (const args of [[], ["reinstall"], ["install", "--scope", "global"], ["install", "--command", "my-hook"], ["install", "extra"], ["install", "--bogus"]]) {
      const r = hooks(p, ...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /^cpwd hooks: .+ \(see cpwd hooks --help\)\n$/);
    }
    assert.equal(existsSync(p.file), false);
  });
});
