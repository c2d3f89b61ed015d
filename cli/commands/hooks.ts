// `cpwd hooks install|uninstall|status`: registers the hook shim (or, `--transport http`, HTTP hooks
// for the frequent events) in a Claude Code settings file, merged with what is there, writes the cpwd skill beside it, and registers `cpwd mcp` as an MCP
// server (hooks-install/mcp-register.ts). The merge rules live in hooks-install/install.ts and
// mcp-config.ts; this file finds the files, reads them, and writes them atomically; `status` is
// hooks-status.ts.
import { existsSync } from "node:fs";
import { rm, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { readIfExists, writeAtomically } from "../../src/platform/atomic-file.js";
import { makeSecret, realTarget, writeGuarded } from "../hooks-install/guarded-write.js";
import { endpointFor, gitIgnoreWarning, installedEndpoint, tokenOf } from "../hooks-install/http-endpoint.js";
import { mcpEntry } from "../hooks-install/mcp-config.js";
import { applyMcpEdit, editMcp, mcpReport, mcpTarget } from "../hooks-install/mcp-register.js";
import { currentPathEnv, resolvePaths, type CpwdPaths } from "../../src/platform/paths.js";
import { hookUrl, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { isCpwdError } from "../../src/protocol/errors.js";
import { userHomeOf } from "../service/spec.js";
import {
  CPWD_COMMAND_MARK,
  CPWD_HOOK_EVENTS,
  formatSettings,
  hookTimeoutSec,
  HTTP_HOOK_EVENTS,
  httpTimeoutSec,
  installHooks,
  shimCommand,
  uninstallHooks,
  type Settings,
} from "../hooks-install/install.js";
import { readShimSettings } from "../../hooks/shim-settings.js";
import { SKILL_MARK, SKILL_TEXT } from "../hooks-install/skill.js";
import { parseArgs } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { EXIT_NOT_INSTALLED, hasCpwdHooks, readSettings, status, type ScopeTargets } from "./hooks-status.js";

const HELP = `usage: cpwd hooks install|uninstall|status [--scope project|local|user] [--dir DIR]
                                           [--command C] [--transport shim|http] [--dry-run]

Registers cpwd's hook shim with Claude Code for ${CPWD_HOOK_EVENTS.join(", ")},
writes the cpwd skill (how to start workers and read their status) beside it, and registers
\`cpwd mcp\` (cpwd's tools) as the MCP server "cpwd": DIR/.mcp.json for the project scope,
~/.claude.json for local (under the project) and user. Other MCP servers are kept.

  install     merge cpwd's entries into the settings file: other hooks and settings are kept,
              an older cpwd entry is replaced in place, running it again changes nothing
  uninstall   remove cpwd's entries (and its skill), nothing else; a settings file that held
              nothing but cpwd's entries is removed
  status      whether cpwd's entries and skill are there and current (exit ${EXIT_NOT_INSTALLED} when
              not, 1 when the settings file cannot be read)

options:
  --scope S     project  DIR/.claude/settings.json (default; shared with the repository)
                local    DIR/.claude/settings.local.json (yours only)
                user     ~/.claude/settings.json (every project)
  --dir DIR     the project folder (default: the current directory)
  --command C   the hook command to write (default: this node and this cpwd's compiled shim, by
                absolute path; pass \`cpwd-hook\` for a settings file shared with others)
  --transport T shim  a process per hook call (default)
                http  ${[...HTTP_HOOK_EVENTS].join(", ")} POST to the daemon at
                      http://127.0.0.1:PORT/hook, no process started; the shim for the rest. Local or
                      user scope only (default local): the file gets this machine's port and the
                      daemon's token as env.CPWD_TOKEN (docs/hooks.md)
  --dry-run     print the resulting settings file; write nothing
  --help        this text

A settings file that is not valid JSON is left untouched: fix it and run again.
`;

export const SCOPES = ["project", "local", "user"] as const;
export type Scope = (typeof SCOPES)[number];
const ACTIONS = ["install", "uninstall", "status"] as const;
type Action = (typeof ACTIONS)[number];

/** Where one scope's settings and skill live. */
export function scopeFiles(scope: Scope, projectDir: string, userHome: string): { settings: string; skill: string } {
  const base = scope === "user" ? join(userHome, ".claude") : join(projectDir, ".claude");
  const name = scope === "local" ? "settings.local.json" : "settings.json";
  return { settings: join(base, name), skill: join(base, "skills", "cpwd", "SKILL.md") };
}

/** The compiled shim beside this CLI: dist/cli/main.js → dist/hooks/cpwd-hook.cjs. */
function builtShim(ctx: CliContext): string {
  return resolve(dirname(ctx.cliScript), "..", "hooks", "cpwd-hook.cjs");
}

/**
 * A scope's files and what `install` writes there for this cpwd: the hook (`command` as --command
 * gives it, else this node and shim) with its timeout from the shim's budget, and the MCP target.
 */
export function scopeTargets(ctx: CliContext, scope: Scope, projectDir: string, command?: string, endpoint?: HookEndpoint | null): Pick<Plan, "files" | "sharedWith" | "hook" | "mcp"> {
  const { budgetMs, failClosed } = readShimSettings(cpwdPaths(ctx).config, ctx.env);
  const userHome = userHomeOf(ctx.env, process.platform === "win32" ? "win32" : "linux");
  const other = scope === "project" ? "local" : scope === "local" ? "project" : undefined;
  const files = scopeFiles(scope, projectDir, userHome);
  const http = endpoint === undefined ? installedEndpoint(files.settings, cpwdPaths(ctx)) : endpoint;
  return {
    files,
    ...(other ? { sharedWith: scopeFiles(other, projectDir, userHome).settings } : {}),
    hook: {
      command: command ?? shimCommand(ctx.nodePath, builtShim(ctx)),
      timeoutSec: hookTimeoutSec(budgetMs),
      ...(http ? { http: { url: hookUrl(http.port), timeoutSec: httpTimeoutSec(budgetMs), token: http.token, ...(failClosed ? { failClosed } : {}) } } : {}),
    },
    // With --command (a bin name for a shared file), the server too is run by name: `cpwd mcp`.
    mcp: mcpTarget(scope, projectDir, userHome, mcpEntry(ctx.nodePath, ctx.cliScript, command !== undefined)),
  };
}

interface Plan extends ScopeTargets {
  action: Action;
  scope: Scope;
  projectDir: string;
  /** The other scope's settings file that shares this skill (project ↔ local), if any. */
  sharedWith?: string;
  dryRun: boolean;
}

/** A settings file as read and as `change` would leave it; it throws, touching nothing, on bad JSON. */
interface SettingsEdit {
  file: string;
  /** The text read (undefined: no file). */
  before: string | undefined;
  /** The text to write. */
  next: string;
  changed: boolean;
}

async function editSettings(file: string, change: (s: Settings) => Settings): Promise<SettingsEdit> {
  const { text: before, settings: current } = await readSettings(file);
  const after = change(current);
  // Compared as data, so an equal result leaves the user's own formatting alone.
  return { file, before, next: formatSettings(after), changed: JSON.stringify(after) !== JSON.stringify(current) };
}

/** `--dry-run`: the file as it would be, the token's value left out. */
function printEdit(edit: SettingsEdit, ctx: CliContext, token?: string): void {
  writeLine(ctx.stdout, `# ${edit.file}${edit.changed ? "" : " (unchanged)"}`);
  const text = edit.changed ? edit.next : (edit.before ?? "");
  ctx.stdout.write(token ? text.replaceAll(token, "<the daemon's token, from hook-http.json>") : text);
}

/** The paths of the CPWD_HOME this command runs with. */
function cpwdPaths(ctx: CliContext): CpwdPaths {
  return resolvePaths({ ...currentPathEnv(), env: ctx.env });
}

/**
 * Writes an uninstall's edit; a file it leaves as `{}` (it held only cpwd's entries, as when
 * `install` created it) is removed instead. Says whether it removed the file.
 */
async function applyUninstall(edit: SettingsEdit, ctx: CliContext): Promise<boolean> {
  if (!edit.changed || edit.next.trim() !== "{}") {
    await applyEdit(edit, ctx);
    return false;
  }
  const target = realTarget(edit.file);
  if ((await readIfExists(target))?.toString("utf8") !== edit.before) throw new Error(`${edit.file} changed while cpwd was editing it; nothing written, run again`);
  await rm(target);
  return true;
}

/**
 * Writes an edit that changes something, unless the file changed since it was read. A file left
 * holding the daemon's token (env.CPWD_TOKEN) is made 0600, written or not (an install made before
 * it was), and a mode so changed is said on stderr.
 */
async function applyEdit(edit: SettingsEdit, ctx: CliContext): Promise<void> {
  const secret = tokenOf(edit.next) !== undefined;
  const was = edit.changed ? await writeGuarded(edit.file, edit.before, edit.next, { secret }) : secret ? makeSecret(edit.file) : null;
  if (was !== null) {
    writeLine(ctx.stderr, `cpwd hooks: ${edit.file} holds the daemon's token (env.CPWD_TOKEN): made it 0600 (it was 0${was.toString(8)}), so that no other local user can read it`);
  }
}

async function install(plan: Plan, ctx: CliContext): Promise<number> {
  const { files, hook } = plan;
  const edit = await editSettings(files.settings, (s) => installHooks(s, hook));
  const mcp = await editMcp(plan.mcp, "install");
  const skillBefore = (await readIfExists(files.skill))?.toString("utf8");
  const skillIsOurs = skillBefore === undefined || skillBefore.includes(SKILL_MARK);
  const skillChanged = skillIsOurs && skillBefore !== SKILL_TEXT;

  if (plan.dryRun) {
    printEdit(edit, ctx, hook.http?.token);
    writeLine(ctx.stdout, `# ${files.skill}: ${!skillIsOurs ? "kept (not written by cpwd)" : skillChanged ? "would be written" : "unchanged"}`);
    writeLine(ctx.stdout, mcpReport(mcp, "install", true)!);
    return 0;
  }
  await applyEdit(edit, ctx);
  await applyMcpEdit(mcp);
  if (skillChanged) await writeAtomically(files.skill, SKILL_TEXT);
  writeLine(
    ctx.stdout,
    edit.changed
      ? `cpwd hooks installed in ${files.settings} (${CPWD_HOOK_EVENTS.length} events, timeout ${hook.timeoutSec} s)`
      : `cpwd hooks already installed in ${files.settings}; nothing changed`,
  );
  if (hook.http) {
    writeLine(ctx.stdout, `transport http: ${[...HTTP_HOOK_EVENTS].join(", ")} → ${hook.http.url} (timeout ${hook.http.timeoutSec} s); the token is the file's env.CPWD_TOKEN`);
    const warning = plan.scope === "local" ? gitIgnoreWarning(files.settings, plan.projectDir) : undefined;
    if (warning) writeLine(ctx.stdout, warning);
  }
  if (!skillIsOurs) writeLine(ctx.stdout, `kept ${files.skill}: it was not written by cpwd`);
  else if (skillChanged) writeLine(ctx.stdout, `skill written to ${files.skill}`);
  writeLine(ctx.stdout, mcpReport(mcp, "install", false)!);
  if (/^cpwd-hook(\s|$)/.test(hook.command)) {
    // A bare name must be on the PATH Claude Code runs hooks with.
    writeLine(ctx.stdout, "note: cpwd-hook must be on PATH where Claude Code runs (`npm link` in the cpwd folder puts it there)");
  }
  return 0;
}

async function uninstall(plan: Plan, ctx: CliContext): Promise<number> {
  const { files } = plan;
  const edit = await editSettings(files.settings, uninstallHooks);
  const mcp = await editMcp(plan.mcp, "uninstall");
  const skillBefore = (await readIfExists(files.skill))?.toString("utf8");
  // project and local scopes share one skill file: it stays while the other still has the hooks.
  const stillUsed = plan.sharedWith !== undefined && (await hasCpwdHooks(plan.sharedWith));
  const removeSkill = skillBefore !== undefined && skillBefore.includes(SKILL_MARK) && !stillUsed;

  if (plan.dryRun) {
    printEdit(edit, ctx, tokenOf(edit.before));
    if (removeSkill) writeLine(ctx.stdout, `# ${files.skill}: would be removed`);
    writeLine(ctx.stdout, mcpReport(mcp, "uninstall", true)!);
    return 0;
  }
  const removedFile = await applyUninstall(edit, ctx);
  await applyMcpEdit(mcp);
  if (removeSkill) {
    await rm(files.skill, { force: true });
    // Its folders go when empty: rmdir refuses a folder that holds anything else.
    await rmdir(dirname(files.skill)).catch(() => undefined);
    await rmdir(dirname(dirname(files.skill))).catch(() => undefined);
  }
  // A project's `.claude` folder that only cpwd's files filled goes with them; ~/.claude stays.
  if (removedFile && plan.scope !== "user") await rmdir(dirname(files.settings)).catch(() => undefined);
  writeLine(ctx.stdout, edit.changed ? `cpwd hooks removed from ${files.settings}${removedFile ? " (left empty: file removed)" : ""}` : `no cpwd hooks in ${files.settings}; nothing changed`);
  if (removeSkill) writeLine(ctx.stdout, `skill removed: ${files.skill}`);
  else if (stillUsed) writeLine(ctx.stdout, `kept ${files.skill}: ${plan.sharedWith} still has cpwd hooks`);
  const mcpLine = mcpReport(mcp, "uninstall", false);
  if (mcpLine) writeLine(ctx.stdout, mcpLine);
  return 0;
}

export const run: Command = async (argv, ctx) => {
  let parsed;
  try {
    parsed = parseArgs(argv, {
      scope: { kind: "string" },
      dir: { kind: "string" },
      command: { kind: "string" },
      transport: { kind: "string" },
      "dry-run": { kind: "bool" },
      help: { kind: "bool", short: "h" },
    });
  } catch (err) {
    writeLine(ctx.stderr, `cpwd hooks: ${(err as Error).message} (see cpwd hooks --help)`);
    return 2;
  }
  const { flags } = parsed;
  if (flags.help) {
    ctx.stdout.write(HELP);
    return 0;
  }
  const [action, ...extra] = [...parsed.positionals, ...parsed.rest];
  const transport = flags.transport as string | undefined;
  // HTTP hooks name this machine's port and read the daemon's token: never a committed file's.
  const scope = (flags.scope as string | undefined) ?? (transport === "http" ? "local" : "project");
  const usageError =
    action === undefined ? "needs install, uninstall or status"
    : !(ACTIONS as readonly string[]).includes(action) ? `unknown action ${action}`
    : extra.length > 0 ? `unexpected argument ${extra[0]}`
    : !(SCOPES as readonly string[]).includes(scope) ? `--scope must be project, local or user (got ${scope})`
    : transport !== undefined && transport !== "shim" && transport !== "http" ? `--transport must be shim or http (got ${transport})`
    : transport === "http" && scope === "project" ? "--transport http needs --scope local or user: a project's settings.json is shared, and HTTP hooks carry this machine's port and the daemon's token"
    : flags.command !== undefined && !(flags.command as string).includes(CPWD_COMMAND_MARK) ? `--command must run ${CPWD_COMMAND_MARK}: that name is how cpwd finds its entries again`
    : undefined;
  if (usageError) {
    writeLine(ctx.stderr, `cpwd hooks: ${usageError} (see cpwd hooks --help)`);
    return 2;
  }

  const shim = builtShim(ctx);
  if (flags.command === undefined && action === "install" && !existsSync(shim)) {
    writeLine(ctx.stderr, `cpwd hooks: the shim is not built (${shim}); run \`npm run build\` first`);
    return 1;
  }
  const projectDir = resolve(ctx.cwd, (flags.dir as string | undefined) ?? ".");
  try {
    const http = await endpointFor(action as Action, transport, cpwdPaths(ctx));
    const plan: Plan = {
      action: action as Action,
      scope: scope as Scope,
      projectDir,
      ...scopeTargets(ctx, scope as Scope, projectDir, flags.command as string | undefined, http),
      dryRun: flags["dry-run"] === true,
    };
    return await { install, uninstall, status }[plan.action](plan, ctx);
  } catch (err) {
    // Bad JSON, a changed file, a read-only folder: one line, and the file as it was.
    const e = err as NodeJS.ErrnoException;
    writeLine(ctx.stderr, `cpwd hooks ${action}: ${e.message}${isCpwdError(err) || !e.code ? "" : ` (${e.code})`}`);
    return 1;
  }
};
