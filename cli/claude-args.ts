// What `cpwd claude` hands Claude Code beyond the prompt: the permission mode in force, and the
// options given after `--`, verbatim, less the few cpwd itself must control (each refused with the
// cpwd option that does its job).
import { CLAUDE_PERMISSION_MODES, type ClaudePermissionMode } from "../src/protocol/claude-permissions.js";
import { usageError } from "./args.js";

const RESUME = 'cpwd claude --resume W3 "PROMPT" continues a worker\'s session (--fork: in a new worker)';
const MODE = "cpwd claude --permission-mode M (or claudePermissionMode in config.json) sets it, so that cpwd records the mode in force";

/** Claude Code options cpwd sets itself, and what to use instead. */
const CONTROLLED: ReadonlyMap<string, string> = new Map([
  ["-p", 'cpwd claude runs print mode itself: give the prompt as its argument, cpwd claude [options] "PROMPT"'],
  ["--print", 'cpwd claude runs print mode itself: give the prompt as its argument, cpwd claude [options] "PROMPT"'],
  ["--output-format", "cpwd reads the stream-json it asks for: cpwd logs W3 renders it, cpwd logs W3 --raw gives it as it is"],
  ["--input-format", 'the prompt is cpwd claude\'s argument: cpwd claude [options] "PROMPT"'],
  ["--verbose", "cpwd always passes it (stream-json needs it): cpwd logs W3 --raw shows everything it prints"],
  ["--session-id", `cpwd reads the session id Claude Code starts (cpwd status --json); ${RESUME}`],
  ["--resume", RESUME],
  ["-r", RESUME],
  ["--continue", RESUME],
  ["-c", RESUME],
  ["--fork-session", RESUME],
  ["--permission-mode", MODE],
  ["--dangerously-skip-permissions", `it is --permission-mode bypassPermissions: ${MODE}`],
  ["--max-budget-usd", "cpwd claude --max-cost USD sets it, and the daemon stops a run that goes over it"],
]);

/**
 * The options after `--`, passed to Claude Code as they are. Throws a usage error naming the
 * first one cpwd controls (`--verbose`, `--output-format=json` and `-p` alike). Only whole
 * arguments are looked at: a value such as `--append-system-prompt "-p is fine"` passes.
 */
export function claudePassThrough(rest: string[]): string[] {
  for (const arg of rest) {
    const name = arg.startsWith("--") ? arg.split("=", 1)[0]! : arg;
    const instead = CONTROLLED.get(name);
    if (instead !== undefined) throw usageError(`${name} after -- is cpwd's to set: ${instead}`);
  }
  return rest;
}

/**
 * The mode a worker runs in: `--permission-mode` if given, else config.json's
 * `claudePermissionMode` (whose default is DEFAULT_CLAUDE_PERMISSION_MODE). `bypassPermissions`
 * is refused here when Claude Code would refuse it (as root, outside a sandbox), rather than leave
 * a worker that fails at once.
 */
export function permissionModeFor(flag: unknown, configured: ClaudePermissionMode, workerEnv: Record<string, string>, uid: number | undefined): ClaudePermissionMode {
  const mode = flag === undefined ? configured : (flag as string);
  if (!(CLAUDE_PERMISSION_MODES as readonly string[]).includes(mode)) {
    throw usageError(`--permission-mode must be one of ${CLAUDE_PERMISSION_MODES.join(", ")} (got ${mode})`);
  }
  if (mode === "bypassPermissions" && uid === 0 && workerEnv.IS_SANDBOX !== "1") {
    throw usageError(
      "Claude Code refuses bypassPermissions when run as root. In a container or sandbox say so with --env IS_SANDBOX=1; " +
        'otherwise keep acceptEdits and allow what else it needs after --, e.g. -- --allowedTools "Bash(npm test:*)"',
    );
  }
  return mode as ClaudePermissionMode;
}
