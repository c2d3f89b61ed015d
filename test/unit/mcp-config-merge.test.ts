// `cpwd hooks install` registering `cpwd mcp`: the merge rules on plain objects (foreign servers
// kept, idempotent, only ours removed, someone else's `cpwd` left alone), then the compiled CLI on
// real files for each scope: .mcp.json, ~/.claude.json at its top and under the project's key.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { inspectMcp, installMcp, isCpwdMcpEntry, mcpEntry, uninstallMcp, checkMcpConfig } from "../../cli/hooks-install/mcp-config.js";
import { CLI, cpwd, tempHome } from "../helpers/daemon.js";

const ours = mcpEntry("/usr/bin/node", "/opt/cpwd/dist/cli/main.js");
const theirs = { type: "stdio", command: "npx", args: ["-y", "@acme/mcp-server"], env: { TOKEN: "x" } };

describe("MCP config merge rules", () => {
  test("install adds cpwd beside foreign servers and other keys; installing again changes nothing", () => {
    const before = { mcpServers: { acme: theirs }, numStartups: 3 };
    const once = installMcp(before, [], ours);
    assert.deepEqual(once, { mcpServers: { acme: theirs, cpwd: ours }, numStartups: 3 });
    assert.equal(installMcp(once, [], ours), once, "the same object: nothing to write");
    assert.deepEqual(before, { mcpServers: { acme: theirs }, numStartups: 3 }, "not mutated");
  });

  test("an older cpwd entry is upgraded in place; a `cpwd` server that is not ours is kept", () => {
    const old = { mcpServers: { cpwd: { type: "stdio", command: "cpwd", args: ["mcp"] } } };
    assert.equal(inspectMcp(old, [], ours), "outdated");
    assert.deepEqual(installMcp(old, [], ours).mcpServers, { cpwd: ours });
    const foreign = { mcpServers: { cpwd: { command: "python", args: ["my_cpwd.py"] } } };
    assert.equal(inspectMcp(foreign, [], ours), "foreign");
    assert.equal(installMcp(foreign, [], ours), foreign);
    assert.equal(uninstallMcp(foreign, []), foreign);
  });

  test("uninstall removes only cpwd, and mcpServers once cpwd emptied it", () => {
    assert.deepEqual(uninstallMcp({ mcpServers: { acme: theirs, cpwd: ours } }, []), { mcpServers: { acme: theirs } });
    assert.deepEqual(uninstallMcp({ mcpServers: { cpwd: ours }, theme: "dark" }, []), { theme: "dark" });
    const none = { theme: "dark" };
    assert.equal(uninstallMcp(none, []), none);
  });

  test("under a project's key (local scope) the project's other state is kept, and stays after uninstall", () => {
    const at = ["projects", "/home/ann/proj"];
    const before = { projects: { "/home/ann/proj": { allowedTools: ["Bash"] }, "/other": { mcpServers: { acme: theirs } } } };
    const installed = installMcp(before, at, ours);
    assert.deepEqual(installed.projects, { "/home/ann/proj": { allowedTools: ["Bash"], mcpServers: { cpwd: ours } }, "/other": { mcpServers: { acme: theirs } } });
    assert.equal(inspectMcp(installed, at, ours), "current");
    assert.equal(inspectMcp(installed, [], ours), "missing", "the user scope is another place");
    assert.deepEqual(uninstallMcp(installed, at), before);
  });

  test("cpwd's entry is recognised by running `… mcp` through cpwd's bin or compiled CLI", () => {
    assert.ok(isCpwdMcpEntry(ours));
    assert.ok(isCpwdMcpEntry(mcpEntry("/usr/bin/node", "/x/dist/cli/main.js", true)));
    // The installed bin entry (package.json's bin) is the CommonJS one.
    assert.ok(isCpwdMcpEntry(mcpEntry("/usr/bin/node", "/x/dist/cli/main.cjs", true)));
    assert.ok(isCpwdMcpEntry({ command: "/home/ann/.npm/bin/cpwd", args: ["mcp"] }));
    assert.ok(!isCpwdMcpEntry({ command: "cpwd", args: ["status"] }));
    assert.ok(!isCpwdMcpEntry({ command: "node", args: ["server.js", "mcp"] }));
    assert.ok(!isCpwdMcpEntry("cpwd mcp"));
  });

  test("a wrong type where cpwd would write is refused with the file and the field", () => {
    assert.throws(() => checkMcpConfig({ mcpServers: [] }, [], "/p/.mcp.json"), /\/p\/\.mcp\.json: "mcpServers" must be an object; left untouched/);
    assert.throws(() => checkMcpConfig({ projects: { "/p": 3 } }, ["projects", "/p"], "f"), /"projects\.\/p" must be an object/);
    assert.doesNotThrow(() => checkMcpConfig({ projects: {} }, ["projects", "/p"], "f"));
  });
});

describe("cpwd hooks registers cpwd mcp (compiled CLI, real files)", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function project(): { dir: string; home: string; mcpJson: string; claudeJson: string } {
    const dir = tempHome("cpwd-mcp-cfg-");
    dirs.push(dir);
    mkdirSync(join(dir, "home"));
    return { dir, home: join(dir, "home"), mcpJson: join(dir, ".mcp.json"), claudeJson: join(dir, "home", ".claude.json") };
  }
  const hooks = (p: { dir: string; home: string }, ...args: string[]) => cpwd(join(p.dir, "cpwd-home"), ["hooks", ...args, "--dir", p.dir], { HOME: p.home });
  const read = (file: string) => JSON.parse(readFileSync(file, "utf8"));

  test("project scope: .mcp.json gets cpwd beside the user's servers; a second install changes no byte; uninstall leaves theirs", () => {
    const p = project();
    writeFileSync(p.mcpJson, JSON.stringify({ mcpServers: { acme: theirs } }));
    const r = hooks(p, "install");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /MCP server cpwd registered in .*\.mcp\.json: .*main\.js mcp/);
    assert.deepEqual(read(p.mcpJson).mcpServers, { acme: theirs, cpwd: { type: "stdio", command: process.execPath, args: [CLI, "mcp"] } });
    const bytes = readFileSync(p.mcpJson);
    assert.match(hooks(p, "install").stdout, /MCP server cpwd already registered/);
    assert.deepEqual(readFileSync(p.mcpJson), bytes);
    assert.match(hooks(p, "status").stdout, /MCP server cpwd in .*\.mcp\.json: current/);
    const off = hooks(p, "uninstall");
    assert.match(off.stdout, /MCP server cpwd removed from .*\.mcp\.json/);
    assert.deepEqual(read(p.mcpJson), { mcpServers: { acme: theirs } });
    assert.match(hooks(p, "status").stdout, /MCP server cpwd in .*: absent; run `cpwd hooks install`/);
  });

  test("user and local scopes write ~/.claude.json, keep its other state and its private mode", () => {
    const p = project();
    writeFileSync(p.claudeJson, JSON.stringify({ numStartups: 9, oauthAccount: { emailAddress: "ann@example.com" } }));
    chmodSync(p.claudeJson, 0o600);
    assert.equal(hooks(p, "install", "--scope", "user").code, 0);
    const user = read(p.claudeJson);
    assert.equal(user.numStartups, 9);
    assert.deepEqual(user.mcpServers.cpwd.args, [CLI, "mcp"]);
    assert.equal(statSync(p.claudeJson).mode & 0o777, 0o600);
    assert.equal(hooks(p, "install", "--scope", "local").code, 0);
    const key = realpathSync(p.dir);
    assert.deepEqual(read(p.claudeJson).projects[key].mcpServers.cpwd.args, [CLI, "mcp"]);
    assert.equal(existsSync(p.mcpJson), false, "the project's .mcp.json is not the local scope's");
    assert.equal(hooks(p, "uninstall", "--scope", "user").code, 0);
    assert.equal(hooks(p, "uninstall", "--scope", "local").code, 0);
    assert.deepEqual(read(p.claudeJson), { numStartups: 9, oauthAccount: { emailAddress: "ann@example.com" }, projects: { [key]: {} } });
  });

  test("an .mcp.json that cannot be parsed is never overwritten, and nothing else is written", () => {
    const p = project();
    const broken = '{ "mcpServers": { "acme": } ';
    writeFileSync(p.mcpJson, broken);
    for (const action of ["install", "uninstall", "status"]) {
      const r = hooks(p, action);
      assert.equal(r.code, 1, action);
      assert.match(r.stderr, /\.mcp\.json is not valid JSON \(.+\); left untouched/);
    }
    assert.equal(readFileSync(p.mcpJson, "utf8"), broken);
    assert.equal(existsSync(join(p.dir, ".claude")), false, "no settings or skill written either");
  });

  test("--dry-run says what would happen to the MCP server and writes nothing; --command registers `cpwd mcp` by name", () => {
    const p = project();
    assert.match(hooks(p, "install", "--dry-run").stdout, /^# .*\.mcp\.json: MCP server cpwd would be registered$/m);
    assert.equal(existsSync(p.mcpJson), false);
    assert.equal(hooks(p, "install", "--command", "cpwd-hook").code, 0);
    assert.deepEqual(read(p.mcpJson).mcpServers.cpwd, { type: "stdio", command: "cpwd", args: ["mcp"] });
  });
});
