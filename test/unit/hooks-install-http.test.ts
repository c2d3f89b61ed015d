// `cpwd hooks install --transport http`: the merge rules for HTTP entries on plain objects, then the
// compiled CLI on real files (scopes, the token kept out of committed files and dry runs, status,
// uninstall, and the two rough edges of issue 10: --help names --command, an emptied file goes).
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cpwdGroup, CPWD_HOOK_EVENTS, HTTP_HOOK_EVENTS, inspectHooks, installedTransport, installHooks, tokenPresence, uninstallHooks } from "../../cli/hooks-install/install.js";
import { readHookEndpoint, updateHookPort } from "../../src/records/hook-endpoint.js";
import { cpwd, pathsFor, tempHome } from "../helpers/daemon.js";

const TOKEN = "ab".repeat(32);
const SHIM = { command: '"/usr/bin/node" "/opt/cpwd/dist/hooks/cpwd-hook.cjs"', timeoutSec: 5 };
const HTTP = { ...SHIM, http: { url: "http://127.0.0.1:4100/hook", timeoutSec: 2, token: TOKEN } };

describe("merging HTTP hooks into settings", () => {
  test("the frequent events post to the daemon with the token by variable; the rest keep the shim", () => {
    const s = installHooks({ env: { FOO: "1" } }, HTTP) as { hooks: Record<string, any[]>; env: Record<string, string> };
    for (const event of CPWD_HOOK_EVENTS) {
      const entry = s.hooks[event]![0].hooks[0];
      if (HTTP_HOOK_EVENTS.has(event)) {
        assert.deepEqual(entry, {
          type: "http",
          url: "http://127.0.0.1:4100/hook",
          timeout: 2,
          headers: { Authorization: "Bearer $CPWD_TOKEN", "X-Cpwd-Worker": "$CPWD_WORKER_ID" },
          allowedEnvVars: ["CPWD_TOKEN", "CPWD_WORKER_ID"],
        });
      } else assert.equal(entry.command, SHIM.command, event);
    }
    assert.deepEqual(s.env, { FOO: "1", CPWD_TOKEN: TOKEN });
    assert.ok(!JSON.stringify(s.hooks).includes(TOKEN));
    assert.deepEqual(installHooks(s, HTTP), s, "idempotent");
    assert.equal(installedTransport(s), "http");
    assert.equal(tokenPresence(s, TOKEN), "current");
    assert.equal(tokenPresence(s, "cd".repeat(32)), "stale");
  });

  test("switching transports replaces cpwd's entries in place and takes the token out", () => {
    const foreign = { matcher: "Bash", hooks: [{ type: "http", url: "http://audit.local/h", headers: { Authorization: "Bearer $AUDIT" }, allowedEnvVars: ["AUDIT"] }] };
    const http = installHooks({ hooks: { PreToolUse: [foreign] } }, HTTP) as { hooks: Record<string, any[]> };
    assert.deepEqual(http.hooks.PreToolUse![0], foreign, "a foreign HTTP hook is not cpwd's");
    const shim = installHooks(http, SHIM) as { hooks: Record<string, any[]> };
    assert.deepEqual(shim.hooks.PreToolUse, [foreign, cpwdGroup("PreToolUse", SHIM)]);
    assert.equal("env" in shim, false);
    assert.equal(installedTransport(shim), "shim");
    assert.deepEqual(uninstallHooks(http), { hooks: { PreToolUse: [foreign] } }, "uninstall removes HTTP entries and the token");
    assert.equal(installedTransport({}), "none");
  });

  test("fail-closed, PreToolUse's HTTP entry blocks the call when the daemon cannot answer; the others never do", () => {
    const s = installHooks({}, { ...HTTP, http: { ...HTTP.http, failClosed: true } }) as { hooks: Record<string, any[]> };
    assert.equal(s.hooks.PreToolUse![0].hooks[0].onFailure, "block");
    for (const event of ["PostToolUse", "UserPromptSubmit"]) assert.equal("onFailure" in s.hooks[event]![0].hooks[0], false, event);
    assert.equal("onFailure" in (installHooks({}, HTTP) as { hooks: Record<string, any[]> }).hooks.PreToolUse![0].hooks[0], false);
  });

  test("another port makes the HTTP entries outdated, and only them", () => {
    const installed = installHooks({}, HTTP);
    const moved = inspectHooks(installed, { ...HTTP, http: { ...HTTP.http, url: "http://127.0.0.1:4200/hook" } });
    for (const event of CPWD_HOOK_EVENTS) assert.equal(moved[event], HTTP_HOOK_EVENTS.has(event) ? "outdated" : "current", event);
  });
});

describe("cpwd hooks --transport http (compiled CLI, real files)", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function project(): { dir: string; home: string; cpwdHome: string; local: string; shared: string } {
    const dir = tempHome("cpwd-hooks-http-");
    dirs.push(dir);
    mkdirSync(join(dir, "home"));
    return { dir, home: join(dir, "home"), cpwdHome: join(dir, "cpwd"), local: join(dir, ".claude", "settings.local.json"), shared: join(dir, ".claude", "settings.json") };
  }
  const hooks = (p: { cpwdHome: string; home: string; dir: string }, ...args: string[]) => cpwd(p.cpwdHome, ["hooks", ...args, "--dir", p.dir], { HOME: p.home });

  test("--help names every option, --command and --transport among them", () => {
    const home = tempHome();
    dirs.push(home);
    const r = cpwd(home, ["hooks", "--help"]);
    assert.equal(r.code, 0);
    for (const flag of ["--scope", "--dir", "--command", "--transport", "--dry-run"]) assert.match(r.stdout.split("\n\n")[0]!, new RegExp(flag), `usage names ${flag}`);
  });

  test("install writes the local file by default, with the token; the project file never gets it", () => {
    const p = project();
    const r = hooks(p, "install", "--transport", "http");
    assert.equal(r.code, 0, r.stderr);
    const ep = readHookEndpoint(pathsFor(p.cpwdHome).hookEndpoint)!;
    const s = JSON.parse(readFileSync(p.local, "utf8"));
    assert.equal(s.env.CPWD_TOKEN, ep.token);
    assert.equal(s.hooks.PreToolUse[0].hooks[0].url, `http://127.0.0.1:${ep.port}/hook`);
    assert.match(r.stdout, new RegExp(`transport http: .*127\\.0\\.0\\.1:${ep.port}/hook`));
    assert.ok(!r.stdout.includes(ep.token));
    assert.equal(existsSync(p.shared), false);

    const refused = hooks(p, "install", "--transport", "http", "--scope", "project");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--transport http needs --scope local or user/);
    assert.equal(existsSync(p.shared), false);

    const dry = hooks(p, "install", "--transport", "http", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(!dry.stdout.includes(ep.token), "a dry run never prints the token");
    assert.ok(!hooks(p, "uninstall", "--scope", "local", "--dry-run").stdout.includes(ep.token));
  });

  test("the settings file that gets the token is its owner's alone: created 0600, an existing one made 0600 and said so", () => {
    const mode = (file: string) => statSync(file).mode & 0o777;
    const fresh = project();
    const created = hooks(fresh, "install", "--transport", "http");
    assert.equal(created.code, 0, created.stderr);
    assert.equal(mode(fresh.local), 0o600);
    assert.equal(created.stderr, "", "a file created 0600 changed no mode");

    const existing = project();
    mkdirSync(join(existing.dir, ".claude"));
    writeFileSync(existing.local, JSON.stringify({ model: "opus" }));
    chmodSync(existing.local, 0o644);
    const r = hooks(existing, "install", "--transport", "http");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(existing.local), 0o600);
    assert.equal(r.stderr, `cpwd hooks: ${existing.local} holds the daemon's token (env.CPWD_TOKEN): made it 0600 (it was 0644), so that no other local user can read it\n`);

    // An install made before this one left the file 0644: installing again, though nothing changes, narrows it.
    chmodSync(existing.local, 0o644);
    const again = hooks(existing, "install", "--transport", "http");
    assert.match(again.stdout, /already installed/);
    assert.match(again.stderr, /made it 0600 \(it was 0644\)/);
    assert.equal(mode(existing.local), 0o600);
  });

  test("status says which transport is installed and whether its port and token are the daemon's", () => {
    const p = project();
    assert.equal(hooks(p, "install", "--transport", "http").code, 0);
    const ok = hooks(p, "status", "--scope", "local");
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /transport: http .*\n {2}port: current\n {2}token: current/);

    const file = pathsFor(p.cpwdHome).hookEndpoint;
    updateHookPort(file, readHookEndpoint(file)!, 1);
    const stale = hooks(p, "status", "--scope", "local");
    assert.equal(stale.code, 3);
    assert.match(stale.stdout, /port: not the daemon's/);
    assert.equal(hooks(p, "install", "--transport", "http").code, 0);
    assert.equal(hooks(p, "status", "--scope", "local").code, 0, "install again makes it current");

    const shim = project();
    assert.equal(hooks(shim, "install").code, 0);
    assert.match(hooks(shim, "status").stdout, /transport: shim/);
  });

  test("uninstall removes HTTP entries and the token; a file install created goes, one with other settings stays", () => {
    const p = project();
    assert.equal(hooks(p, "install", "--transport", "http").code, 0);
    const r = hooks(p, "uninstall", "--scope", "local");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /file removed/);
    assert.equal(existsSync(p.local), false);
    assert.equal(existsSync(join(p.dir, ".claude")), false, "the .claude folder install made goes too");

    const kept = project();
    assert.equal(hooks(kept, "install").code, 0);
    const s = JSON.parse(readFileSync(kept.shared, "utf8"));
    writeFileSync(kept.shared, JSON.stringify({ ...s, model: "opus" }));
    assert.equal(hooks(kept, "uninstall").code, 0);
    assert.deepEqual(JSON.parse(readFileSync(kept.shared, "utf8")), { model: "opus" });

    const empty = project();
    mkdirSync(join(empty.dir, ".claude"));
    writeFileSync(empty.shared, "{}\n");
    assert.equal(hooks(empty, "uninstall").code, 0);
    assert.equal(readFileSync(empty.shared, "utf8"), "{}\n", "a file cpwd did not change is left alone");
  });
});
