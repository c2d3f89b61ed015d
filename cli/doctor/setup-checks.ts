// `cpwd doctor`'s checks of what surrounds the daemon: cpwd's hooks and MCP server in Claude Code's
// settings (read as `cpwd hooks status` reads them), the `claude` binary, and the login service
// (judged as `cpwd service status` judges it).
import { execFile } from "node:child_process";
import { readIfExists } from "../../src/platform/atomic-file.js";
import { scopeTargets, SCOPES, type Scope } from "../commands/hooks.js";
import { readScopeState, type ScopeState } from "../commands/hooks-status.js";
import { servicePlatform, serviceTargetFor } from "../commands/service.js";
import { CPWD_COMMAND_MARK, CPWD_HOOK_EVENTS } from "../hooks-install/install.js";
import { spawnCommand } from "../service/manager.js";
import { fail, ok, shellPath, warn, type Doctor, type Finding } from "./check.js";

/** How long `claude --version` and the service manager's answer may take. */
const CLAUDE_TIMEOUT_MS = 5_000;
const MANAGER_TIMEOUT_MS = 2_000;

/** One scope as read: its state against the install it is closest to, or why it cannot be read. */
type ScopeRow = { scope: Scope; settings: string; state: ScopeState; bare: boolean } | { scope: Scope; settings: string; error: string };

const rows = new WeakMap<Doctor, Promise<ScopeRow[]>>();

/** How far a scope is from an install: events not current, a stale skill, a stale MCP entry. */
function distance(s: ScopeState): number {
  return s.missing.length + s.outdated.length + (s.skill === "absent" || s.skill === "outdated" ? 1 : 0) + (s.mcp.presence === "outdated" ? 1 : 0);
}

/**
 * A scope read against both installs `cpwd hooks install` makes: this node and cpwd by path, and
 * `--command cpwd-hook` (bin names on PATH, for a shared file); the closer one is kept.
 */
async function readScope(d: Doctor, scope: Scope): Promise<ScopeRow> {
  const byPath = scopeTargets(d.ctx, scope, d.projectDir);
  try {
    const state = await readScopeState(byPath);
    const bare = await readScopeState(scopeTargets(d.ctx, scope, d.projectDir, CPWD_COMMAND_MARK));
    const useBare = distance(bare) < distance(state);
    return { scope, settings: byPath.files.settings, state: useBare ? bare : state, bare: useBare };
  } catch (err) {
    return { scope, settings: byPath.files.settings, error: (err as Error).message };
  }
}

/** Each scope's settings, skill and MCP entry for the project, read once per doctor run. */
function scopeRows(d: Doctor): Promise<ScopeRow[]> {
  let found = rows.get(d);
  if (!found) {
    found = Promise.all(SCOPES.map((scope) => readScope(d, scope)));
    rows.set(d, found);
  }
  return found;
}

/** `cpwd hooks install` for a scope (as it was installed), from wherever doctor was run. */
function installCommand(d: Doctor, scope: Scope, bare = false): string {
  const dir = scope !== "user" && d.projectDir !== d.ctx.cwd ? ` --dir ${shellPath(d.projectDir)}` : "";
  return `\`cpwd hooks install${scope === "project" ? "" : ` --scope ${scope}`}${dir}${bare ? ` --command ${CPWD_COMMAND_MARK}` : ""}\``;
}

const hooksInstalled = (s: ScopeState) => s.missing.length < CPWD_HOOK_EVENTS.length;
const hooksCurrent = (s: ScopeState) => s.missing.length === 0 && s.outdated.length === 0 && (s.skill === "current" || s.skill === "not cpwd's");

/** What is stale in a scope that has cpwd's hooks, in a few words. */
function staleness(s: ScopeState): string {
  const parts = [];
  const events = (list: string[]) => (list.length === CPWD_HOOK_EVENTS.length ? "every event" : list.join(", "));
  if (s.outdated.length > 0) parts.push(`another command or timeout for ${events(s.outdated)}`);
  if (s.missing.length > 0) parts.push(`no entry for ${events(s.missing)}`);
  if (s.skill === "absent" || s.skill === "outdated") parts.push(`skill ${s.skill}`);
  return parts.join("; ");
}

/** cpwd's hook shim and skill, in some scope for this project, as this cpwd would write them. */
export async function checkHooks(d: Doctor): Promise<Finding> {
  const all = await scopeRows(d);
  const unreadable = all.find((r) => "error" in r);
  if (unreadable && "error" in unreadable) return fail(unreadable.error, "fix the file by hand (Claude Code cannot read it either)");
  const read = all.filter((r): r is Extract<ScopeRow, { state: ScopeState }> => "state" in r);
  const stale = read.find((r) => hooksInstalled(r.state) && !hooksCurrent(r.state));
  if (stale) return fail(`${stale.settings} is not current: ${staleness(stale.state)}`, installCommand(d, stale.scope, stale.bare));
  const current = read.filter((r) => hooksCurrent(r.state));
  if (current.length > 0) return ok(`installed in ${current.map((r) => r.settings).join(", ")}`);
  return warn(`not installed for ${d.projectDir}`, `${installCommand(d, "project")} in the project, or ${installCommand(d, "user")} for every project`);
}

/** `cpwd mcp` registered as the MCP server "cpwd" in some scope for this project. */
export async function checkMcp(d: Doctor): Promise<Finding> {
  const read = (await scopeRows(d)).filter((r): r is Extract<ScopeRow, { state: ScopeState }> => "state" in r);
  const outdated = read.find((r) => r.state.mcp.presence === "outdated");
  if (outdated) return fail(outdated.state.mcp.line.replace(/; run .*$/, ""), installCommand(d, outdated.scope, outdated.bare));
  const current = read.filter((r) => r.state.mcp.presence === "current");
  // mcpStatus's line is "MCP server cpwd in FILE: current"; the files are what is worth showing.
  if (current.length > 0) return ok(`registered in ${current.map((r) => r.state.mcp.line.replace(/^MCP server \S+ in (.*): current$/, "$1")).join(", ")}`);
  const foreign = read.find((r) => r.state.mcp.presence === "foreign");
  if (foreign) return warn(`${foreign.state.mcp.line}: cpwd's tools are not registered`, "rename that server, then `cpwd hooks install`");
  return warn(`not registered for ${d.projectDir}`, `${installCommand(d, "project")} registers it with the hooks`);
}

/** The binary `cpwd claude` runs (CPWD_CLAUDE_BIN, else config.json's claudeBin) answers `--version`. */
export function checkClaude(d: Doctor): Promise<Finding> {
  const bin = d.ctx.env.CPWD_CLAUDE_BIN || d.config?.claudeBin || "claude";
  const source = d.ctx.env.CPWD_CLAUDE_BIN ? "CPWD_CLAUDE_BIN" : d.config && d.config.claudeBin !== "claude" ? "claudeBin in config.json" : "the default";
  return new Promise((done) => {
    execFile(bin, ["--version"], { cwd: d.ctx.cwd, env: d.ctx.env, timeout: CLAUDE_TIMEOUT_MS, encoding: "utf8" }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
      if (e?.code === "ENOENT" || e?.code === "EACCES") {
        const what = e.code === "ENOENT" ? `not found${bin.includes("/") ? "" : " on PATH"}` : "not executable";
        return done(fail(`${bin} ${what}${source === "the default" ? "" : ` (${source})`}: \`cpwd claude\` cannot start Claude workers`, "install Claude Code, or point CPWD_CLAUDE_BIN (or claudeBin in config.json) at it"));
      }
      if (e?.killed) return done(warn(`\`${bin} --version\` did not answer within ${CLAUDE_TIMEOUT_MS / 1000} s`, `run \`${bin} --version\` yourself to see what it waits for`));
      const said = (stdout.trim() || stderr.trim()).split("\n")[0] ?? "";
      if (e) return done(fail(`\`${bin} --version\` exited ${e.code}: ${said}`, "reinstall Claude Code, or point CPWD_CLAUDE_BIN at a working one"));
      done(ok(`${said} (${bin}${source === "the default" ? "" : `, from ${source}`})`));
    });
  });
}

/** The login service (`cpwd service install`): its file is there and is what install would write now. */
export async function checkService(d: Doctor): Promise<Finding> {
  const platform = servicePlatform(d.ctx);
  if ("error" in platform) return warn(platform.error);
  let target;
  try {
    target = serviceTargetFor(d.ctx, platform.platform);
  } catch (err) {
    return fail(`cannot describe the service: ${(err as Error).message}`);
  }
  const existing = await readIfExists(target.filePath);
  if (existing === undefined) return warn(`not installed (no ${target.filePath}): the daemon starts when something needs it, not at login`, "`cpwd service install`");
  if (!existing.equals(target.contents)) {
    return warn(`${target.filePath} differs from what \`cpwd service install\` writes now (node, cpwd, CPWD_HOME or PATH changed)`, "`cpwd service install`");
  }
  const answer = await spawnCommand(MANAGER_TIMEOUT_MS)(target.query.cmd, target.query.args);
  const said = answer.code === 0 ? target.summarize(answer.stdout).slice(0, 4).join(", ") : `${target.manager} did not answer`;
  return ok(`${target.filePath} (${said})`);
}
