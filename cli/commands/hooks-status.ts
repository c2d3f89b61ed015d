// `cpwd hooks status`: what one scope holds of cpwd's (hooks and their transport, the HTTP hooks'
// token, skill, MCP entry) against what `cpwd hooks install` would write there; `cpwd doctor`
// reads the same state.
import { readIfExists } from "../../src/platform/atomic-file.js";
import {
  CPWD_HOOK_EVENTS,
  HTTP_HOOK_EVENTS,
  inspectHooks,
  installedTransport,
  parseSettings,
  tokenPresence,
  type CpwdHookEvent,
  type Settings,
  type ShimHook,
} from "../hooks-install/install.js";
import type { McpPresence } from "../hooks-install/mcp-config.js";
import { editMcp, mcpStatus, type McpTarget } from "../hooks-install/mcp-register.js";
import { SKILL_MARK, SKILL_TEXT } from "../hooks-install/skill.js";
import { writeLine, type CliContext } from "../context.js";

/** Exit code of `status` when cpwd's hooks are missing or not current (as `cpwd service status`). */
export const EXIT_NOT_INSTALLED = 3;

/** A scope's files and what `install` writes there (scopeTargets in hooks.ts builds it). */
export interface ScopeTargets {
  files: { settings: string; skill: string };
  hook: ShimHook;
  /** Where `cpwd mcp` is registered. */
  mcp: McpTarget;
}

/** A settings file's text (undefined: no file) and its settings; throws on bad JSON. */
export async function readSettings(file: string): Promise<{ text: string | undefined; settings: Settings }> {
  const text = (await readIfExists(file))?.toString("utf8");
  return { text, settings: parseSettings(text, file) };
}

/** What one scope holds of cpwd's, against what `install` would write: `status` and `cpwd doctor` read it. */
export interface ScopeState {
  /** Events without a cpwd entry, and events whose entry has another command or timeout. */
  missing: CpwdHookEvent[];
  outdated: CpwdHookEvent[];
  skill: "absent" | "current" | "outdated" | "not cpwd's";
  mcp: { line: string; ok: boolean; presence: McpPresence };
  /** How cpwd's entries reach the daemon: `http` when any is an HTTP hook. */
  transport: "http" | "shim" | "none";
  /** With HTTP hooks, the file's `env.CPWD_TOKEN` against the daemon's; null for the shim. */
  token: "current" | "stale" | "absent" | null;
  /** Hooks, skill, token and MCP entry all as `install` would leave them (someone else's skill or server counts). */
  ok: boolean;
}

/** Reads a scope's settings, skill and MCP entry; throws, as `status` does, on a file it cannot parse. */
export async function readScopeState(plan: ScopeTargets): Promise<ScopeState> {
  const { settings: current } = await readSettings(plan.files.settings);
  const presence = inspectHooks(current, plan.hook);
  const transport = installedTransport(current);
  const token = plan.hook.http ? tokenPresence(current, plan.hook.http.token) : null;
  const missing = CPWD_HOOK_EVENTS.filter((e) => presence[e] === "missing");
  const outdated = CPWD_HOOK_EVENTS.filter((e) => presence[e] === "outdated");
  const text = (await readIfExists(plan.files.skill))?.toString("utf8");
  // A skill of the user's own under that name is theirs to keep: not counted against the install.
  const skill = text === undefined ? "absent" : text === SKILL_TEXT ? "current" : text.includes(SKILL_MARK) ? "outdated" : "not cpwd's";
  const edit = await editMcp(plan.mcp, "status");
  const mcp = { ...mcpStatus(edit), presence: edit.presence };
  const ok = missing.length === 0 && outdated.length === 0 && (skill === "current" || skill === "not cpwd's") && mcp.ok && (token === null || token === "current");
  return { missing, outdated, skill, mcp, transport, token, ok };
}

/** The lines about the HTTP transport: where it posts, and whether the port and token are the daemon's. */
function httpLines(plan: ScopeTargets, state: ScopeState): string[] {
  const http = plan.hook.http;
  if (!http || state.transport !== "http") return [`transport: ${state.transport === "none" ? "none" : "shim (a process per hook call)"}`];
  if (http.token === "") return ["transport: http, but the daemon has no hook-http.json yet: start it (`cpwd start`) or run `cpwd hooks install --transport http`"];
  const portStale = [...HTTP_HOOK_EVENTS].some((e) => state.outdated.includes(e as CpwdHookEvent));
  const lines = [`transport: http (${[...HTTP_HOOK_EVENTS].join(", ")} → ${http.url}; the shim for the rest)`];
  lines.push(portStale ? `  port: not the daemon's (${http.url}); run \`cpwd hooks install --transport http\`` : "  port: current");
  const why = { current: "current", stale: "not the daemon's; run `cpwd hooks install --transport http`", absent: "not in the file (env.CPWD_TOKEN); run `cpwd hooks install --transport http`" };
  lines.push(`  token: ${why[state.token ?? "absent"]}`);
  return lines;
}

/** `status`: one line for the hooks, the skill and the MCP entry; exit 0 when all are current. */
export async function status(plan: ScopeTargets, ctx: CliContext): Promise<number> {
  const { files, hook } = plan;
  const state = await readScopeState(plan);
  const { missing, outdated, skill, mcp, ok } = state;
  if (missing.length === CPWD_HOOK_EVENTS.length) writeLine(ctx.stdout, `not installed in ${files.settings}`);
  else if (missing.length === 0 && outdated.length === 0) writeLine(ctx.stdout, `installed in ${files.settings}: ${hook.command} (timeout ${hook.timeoutSec} s)`);
  else {
    writeLine(ctx.stdout, `installed in ${files.settings}, not current; run \`cpwd hooks install\``);
    if (outdated.length > 0) writeLine(ctx.stdout, `  different command or timeout: ${outdated.join(", ")}`);
    if (missing.length > 0) writeLine(ctx.stdout, `  missing: ${missing.join(", ")}`);
  }
  if (missing.length < CPWD_HOOK_EVENTS.length) for (const line of httpLines(plan, state)) writeLine(ctx.stdout, line);
  writeLine(ctx.stdout, `skill ${files.skill}: ${skill}${skill === "absent" || skill === "outdated" ? "; run `cpwd hooks install`" : ""}`);
  writeLine(ctx.stdout, mcp.line);
  return ok ? 0 : EXIT_NOT_INSTALLED;
}

/** Whether a settings file holds any cpwd hook; an absent or unreadable file holds none. */
export async function hasCpwdHooks(file: string): Promise<boolean> {
  try {
    const { settings } = await readSettings(file);
    return Object.values(inspectHooks(settings, { command: "", timeoutSec: 0 })).some((p) => p !== "missing");
  } catch {
    return false;
  }
}

