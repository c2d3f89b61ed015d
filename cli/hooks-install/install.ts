// `cpwd hooks install` as pure functions: parse a Claude Code settings file, merge cpwd's hook
// entries into it, take them out again, or say whether they are there. No I/O, so every rule
// (foreign hooks kept, idempotent, upgrade in place, only ours removed) is tested on plain objects.
//
// cpwd's entries are recognised by their command containing "cpwd-hook" (the bin name and the
// compiled file's name, dist/hooks/cpwd-hook.cjs), or, for HTTP hooks, by reading CPWD_TOKEN, so
// an entry written by an older version, or by hand, is upgraded rather than duplicated.
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { exceedsDepth } from "../../src/protocol/json-bounds.js";

/**
 * The events the shim is registered for: those the daemon answers or records. SubagentStart …
 * TeammateIdle report Claude Code's own work (subagents, teammates), which `cpwd status` shows.
 */
export const CPWD_HOOK_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionDenied",
  "Stop",
  "SubagentStart",
  "SubagentStop",
  "TaskCreated",
  "TaskCompleted",
  "TeammateIdle",
  "SessionEnd",
  "PreCompact",
  "Notification",
] as const;
export type CpwdHookEvent = (typeof CPWD_HOOK_EVENTS)[number];

/** Events whose entries take a tool-name matcher; "*" = every tool (claims and digests need all). */
const TOOL_EVENTS: ReadonlySet<string> = new Set(["PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionDenied"]);

/** What marks a hook command as cpwd's. */
export const CPWD_COMMAND_MARK = "cpwd-hook";

/**
 * The frequent events `--transport http` sends to the daemon's HTTP endpoint. The others keep the
 * shim: SessionStart must be able to start a missing daemon (and Claude Code sends no HTTP hook
 * on it), and the rare ones must reach the record even while the daemon is down.
 */
export const HTTP_HOOK_EVENTS: ReadonlySet<string> = new Set(["PreToolUse", "PostToolUse", "UserPromptSubmit"]);
/** The variable HTTP hooks read the token from; what marks an HTTP hook as cpwd's. */
export const TOKEN_ENV = "CPWD_TOKEN";

/** cpwd's HTTP hook, for `--transport http`. */
export interface HttpHook {
  /** http://127.0.0.1:PORT/hook */
  url: string;
  /** Claude Code's timeout for the request, seconds. */
  timeoutSec: number;
  /** Written as the settings file's `env.CPWD_TOKEN` (never in a project-scope file); absent: not written. */
  token?: string;
  /**
   * `hookFailClosed`: PreToolUse gets `"onFailure": "block"`, so Claude Code refuses the tool call
   * when the daemon cannot answer, as the fail-closed shim denies it.
   */
  failClosed?: boolean;
}

export interface ShimHook {
  /** The shell command Claude Code runs. */
  command: string;
  /** Claude Code's own timeout for it, seconds; above the shim's budget so the shim always answers. */
  timeoutSec: number;
  /** With `--transport http`: HTTP_HOOK_EVENTS go here instead of the shim. */
  http?: HttpHook;
}

export type Settings = Record<string, unknown>;

/** Per event: our entry as we would write it, an older or hand-edited one, or none. */
export type HookPresence = "current" | "outdated" | "missing";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A matcher group we can safely edit: an object with a `hooks` array. Anything else is left alone. */
function isGroup(v: unknown): v is Record<string, unknown> & { hooks: unknown[] } {
  return isObject(v) && Array.isArray(v.hooks);
}

export function isCpwdHook(h: unknown): boolean {
  if (!isObject(h)) return false;
  if (h.type === "http") return Array.isArray(h.allowedEnvVars) && h.allowedEnvVars.includes(TOKEN_ENV);
  return typeof h.command === "string" && h.command.includes(CPWD_COMMAND_MARK);
}

/** Which transport cpwd's entries in `settings` use: any HTTP entry of cpwd's means `http`. */
export function installedTransport(settings: Settings): "http" | "shim" | "none" {
  const hooks = isObject(settings.hooks) ? settings.hooks : {};
  const ours = Object.values(hooks).flatMap((groups) => (Array.isArray(groups) ? groups : [])).filter(isGroup).flatMap((g) => g.hooks.filter(isCpwdHook));
  if (ours.length === 0) return "none";
  return ours.some((h) => (h as Record<string, unknown>).type === "http") ? "http" : "shim";
}

/** Deeper than any settings file needs, and well within what JSON.stringify can write back. */
const MAX_SETTINGS_DEPTH = 1_000;

/** The settings file's text → its object. Absent or blank is `{}`; anything else must be a JSON object. */
export function parseSettings(text: string | undefined, file: string): Settings {
  if (text === undefined || text.trim() === "") return {};
  let value: unknown;
  try {
    // A UTF-8 BOM is legal in a file but not in JSON.parse.
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    // V8 quotes the text around the fault, newlines included; keep the error on one line.
    const why = (err as Error).message.replace(/\s*\n\s*/g, " ");
    throw new CpwdError(ErrorCode.InvalidConfig, `${file} is not valid JSON (${why}); left untouched, fix it and run again`, {
      details: { file },
    });
  }
  if (!isObject(value)) throw new CpwdError(ErrorCode.InvalidConfig, `${file} must hold a JSON object; left untouched`, { details: { file } });
  // JSON.parse takes any depth; writing the file back (JSON.stringify) overflows the stack.
  if (exceedsDepth(value, MAX_SETTINGS_DEPTH)) {
    throw new CpwdError(ErrorCode.InvalidConfig, `${file} is nested more than ${MAX_SETTINGS_DEPTH} levels deep; left untouched`, { details: { file } });
  }
  if (value.hooks !== undefined && !isObject(value.hooks)) {
    throw new CpwdError(ErrorCode.InvalidConfig, `${file}: "hooks" must be an object; left untouched`, { details: { file } });
  }
  const hooks = value.hooks as Record<string, unknown> | undefined;
  for (const event of CPWD_HOOK_EVENTS) {
    if (hooks?.[event] !== undefined && !Array.isArray(hooks[event])) {
      throw new CpwdError(ErrorCode.InvalidConfig, `${file}: "hooks.${event}" must be an array; left untouched`, { details: { file } });
    }
  }
  return value;
}

/** The settings as they are written: two-space JSON and a final newline, as Claude Code writes them. */
export function formatSettings(settings: Settings): string {
  return `${JSON.stringify(settings, null, 2)}\n`;
}

/**
 * The one matcher group cpwd adds to an event. An HTTP hook names the token and the worker id by
 * variable only: Claude Code fills them in from its environment (`allowedEnvVars`), and a worker's
 * CPWD_WORKER_ID reaches the daemon as the shim's does ("" for a conductor).
 */
export function cpwdGroup(event: string, hook: ShimHook): Record<string, unknown> {
  const entry =
    hook.http && HTTP_HOOK_EVENTS.has(event)
      ? {
          type: "http",
          url: hook.http.url,
          timeout: hook.http.timeoutSec,
          headers: { Authorization: `Bearer $${TOKEN_ENV}`, "X-Cpwd-Worker": "$CPWD_WORKER_ID" },
          allowedEnvVars: [TOKEN_ENV, "CPWD_WORKER_ID"],
          ...(hook.http.failClosed && event === "PreToolUse" ? { onFailure: "block" } : {}),
        }
      : { type: "command", command: hook.command, timeout: hook.timeoutSec };
  return TOOL_EVENTS.has(event) ? { matcher: "*", hooks: [entry] } : { hooks: [entry] };
}

/** `settings` with `env.CPWD_TOKEN` set to `token`, or taken out (and an `env` left empty by that). */
function withToken(settings: Settings, token: string | undefined): Settings {
  const env = isObject(settings.env) ? settings.env : undefined;
  if (token !== undefined) return { ...settings, env: { ...env, [TOKEN_ENV]: token } };
  if (env === undefined || !(TOKEN_ENV in env)) return settings;
  const { [TOKEN_ENV]: _dropped, ...rest } = env;
  const { env: _env, ...others } = settings;
  return Object.keys(rest).length > 0 ? { ...others, env: rest } : others;
}

/**
 * One event's groups with cpwd's hooks taken out. With `replacement`, the first group that held
 * only cpwd hooks becomes it (an upgrade keeps its place), or it is appended. Groups that held
 * other hooks beside ours keep those; a group left empty by us goes.
 */
function rewriteGroups(groups: unknown[], replacement: Record<string, unknown> | undefined): unknown[] {
  const out: unknown[] = [];
  let placed = replacement === undefined;
  for (const g of groups) {
    if (!isGroup(g) || !g.hooks.some(isCpwdHook)) {
      out.push(g);
      continue;
    }
    const others = g.hooks.filter((h) => !isCpwdHook(h));
    if (others.length > 0) out.push({ ...g, hooks: others });
    else if (!placed) {
      out.push(replacement);
      placed = true;
    }
  }
  if (!placed) out.push(replacement);
  return out;
}

/** `settings` with cpwd's entry for every event, everything else as it was. Does not mutate. */
export function installHooks(settings: Settings, hook: ShimHook): Settings {
  const hooks: Record<string, unknown> = { ...((settings.hooks as Record<string, unknown> | undefined) ?? {}) };
  for (const event of CPWD_HOOK_EVENTS) {
    hooks[event] = rewriteGroups((hooks[event] as unknown[] | undefined) ?? [], cpwdGroup(event, hook));
  }
  return withToken({ ...settings, hooks }, hook.http?.token);
}

/** `settings` without any cpwd entry; an event list or `hooks` emptied by that goes too. */
export function uninstallHooks(settings: Settings): Settings {
  const before = settings.hooks as Record<string, unknown> | undefined;
  if (before === undefined) return withToken(settings, undefined);
  const hooks: Record<string, unknown> = { ...before };
  for (const event of CPWD_HOOK_EVENTS) {
    const groups = hooks[event] as unknown[] | undefined;
    if (groups === undefined) continue;
    const kept = rewriteGroups(groups, undefined);
    if (kept.length === 0 && groups.length > 0) delete hooks[event];
    else hooks[event] = kept;
  }
  const { hooks: _dropped, ...rest } = settings;
  return withToken(Object.keys(hooks).length === 0 && Object.keys(before).length > 0 ? rest : { ...settings, hooks }, undefined);
}

/** For each event, whether cpwd's entry is there exactly as `hook` would write it. */
export function inspectHooks(settings: Settings, hook: ShimHook): Record<CpwdHookEvent, HookPresence> {
  const hooks = (settings.hooks as Record<string, unknown> | undefined) ?? {};
  const out = {} as Record<CpwdHookEvent, HookPresence>;
  for (const event of CPWD_HOOK_EVENTS) {
    const groups = (hooks[event] as unknown[] | undefined) ?? [];
    const want = JSON.stringify(cpwdGroup(event, hook));
    if (groups.some((g) => JSON.stringify(g) === want)) out[event] = "current";
    else out[event] = groups.some((g) => isGroup(g) && g.hooks.some(isCpwdHook)) ? "outdated" : "missing";
  }
  return out;
}

/** `env.CPWD_TOKEN` in `settings` against the daemon's token: the same, another, or none. */
export function tokenPresence(settings: Settings, token: string | undefined): "current" | "stale" | "absent" {
  const held = isObject(settings.env) ? settings.env[TOKEN_ENV] : undefined;
  return held === undefined ? "absent" : held === token ? "current" : "stale";
}

/** Claude Code's timeout for the shim, seconds: the shim's budget with room to spare, at least 5. */
export function hookTimeoutSec(budgetMs: number): number {
  return Math.max(5, Math.ceil(budgetMs / 1000) + 4);
}

/**
 * Claude Code's timeout for an HTTP hook, seconds: a second past the shim's budget. Nothing needs
 * the room the shim does (no process to start), and a hung daemon costs each call this long.
 */
export function httpTimeoutSec(budgetMs: number): number {
  return Math.ceil(budgetMs / 1000) + 1;
}

/**
 * `node shim` as one shell command. Claude Code runs hook commands through a shell, so each path
 * is double-quoted with the characters a POSIX shell still expands inside double quotes escaped.
 */
export function shimCommand(nodePath: string, shimPath: string): string {
  const quote = (s: string) => `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
  return `${quote(nodePath)} ${quote(shimPath)}`;
}
