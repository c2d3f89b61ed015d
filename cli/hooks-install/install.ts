// `cpwd hooks install` as pure functions: parse a Claude Code settings file, merge cpwd's hook
// entries into it, take them out again, or say whether they are there. No I/O, so every rule
// (foreign hooks kept, idempotent, upgrade in place, only ours removed) is tested on plain objects.
//
// cpwd's entries are recognised by their command containing "cpwd-hook" (the bin name and the
// compiled file's name, dist/hooks/cpwd-hook.cjs), so an entry written by an older version, or by
// hand, is upgraded rather than duplicated.
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

export interface ShimHook {
  /** The shell command Claude Code runs. */
  command: string;
  /** Claude Code's own timeout for it, seconds; above the shim's budget so the shim always answers. */
  timeoutSec: number;
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
  return isObject(h) && typeof h.command === "string" && h.command.includes(CPWD_COMMAND_MARK);
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

/** The one matcher group cpwd adds to an event. */
export function cpwdGroup(event: string, hook: ShimHook): Record<string, unknown> {
  const entry = { type: "command", command: hook.command, timeout: hook.timeoutSec };
  return TOOL_EVENTS.has(event) ? { matcher: "*", hooks: [entry] } : { hooks: [entry] };
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
  return { ...settings, hooks };
}

/** `settings` without any cpwd entry; an event list or `hooks` emptied by that goes too. */
export function uninstallHooks(settings: Settings): Settings {
  const before = settings.hooks as Record<string, unknown> | undefined;
  if (before === undefined) return settings;
  const hooks: Record<string, unknown> = { ...before };
  for (const event of CPWD_HOOK_EVENTS) {
    const groups = hooks[event] as unknown[] | undefined;
    if (groups === undefined) continue;
    const kept = rewriteGroups(groups, undefined);
    if (kept.length === 0 && groups.length > 0) delete hooks[event];
    else hooks[event] = kept;
  }
  const { hooks: _dropped, ...rest } = settings;
  return Object.keys(hooks).length === 0 && Object.keys(before).length > 0 ? rest : { ...settings, hooks };
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

/** Claude Code's timeout for the shim, seconds: the shim's budget with room to spare, at least 5. */
export function hookTimeoutSec(budgetMs: number): number {
  return Math.max(5, Math.ceil(budgetMs / 1000) + 4);
}

/**
 * `node shim` as one shell command. Claude Code runs hook commands through a shell, so each path
 * is double-quoted with the characters a POSIX shell still expands inside double quotes escaped.
 */
export function shimCommand(nodePath: string, shimPath: string): string {
  const quote = (s: string) => `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
  return `${quote(nodePath)} ${quote(shimPath)}`;
}
