// Claude workers' permissions: the modes `cpwd claude` accepts and the one it picks when nobody
// says, and how the actions Claude Code refused in a run read in `cpwd status` and in digests.
// Types and pure helpers with no dependencies: the CLI's fast path and the daemon both use them.

/** Modes Claude Code 2.1.331 takes for `--permission-mode` (`default` is its older name for `manual`). */
export const CLAUDE_PERMISSION_MODES = ["acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "manual", "plan"] as const;
export type ClaudePermissionMode = (typeof CLAUDE_PERMISSION_MODES)[number];

/**
 * A worker's mode when neither `--permission-mode` nor config.json's `claudePermissionMode` says:
 * it edits files in its own folder and nothing else runs unasked (docs/claude-workers.md says why).
 */
export const DEFAULT_CLAUDE_PERMISSION_MODE: ClaudePermissionMode = "acceptEdits";

/** One action Claude Code refused in a worker's run (a permission mode's refusal, or a PreToolUse hook's). */
export type RefusedAction = {
  tool: string;
  /** The file (relative to the session's folder when inside it), the command's first line, … */
  target: string;
  toolUseId: string;
  /** Claude Code's message, when it gave one. */
  reason?: string;
};

/** What a Claude worker's progress says about refusals (fields of `worker.claude`). */
export interface RefusalFacts {
  /** The first refused actions of the run, in order (at most REFUSED_KEPT). */
  refused?: RefusedAction[] | null | undefined;
  /** Every refused action of the run. */
  refusedCount?: number | null | undefined;
  /** File edits (Write, Edit, MultiEdit, NotebookEdit) the run attempted, and how many were refused. */
  edits?: number | null | undefined;
  editsRefused?: number | null | undefined;
  permissionMode?: string | null | undefined;
}

/** How many refused actions a worker's record lists by name. */
export const REFUSED_KEPT = 20;
/** How many a status line or a digest names. */
const NAMED = 3;

/** True when the run tried to edit files and every edit was refused: it did not do what it was asked. */
export function needsAttention(f: RefusalFacts): boolean {
  return (f.edits ?? 0) > 0 && (f.editsRefused ?? 0) >= (f.edits ?? 0);
}

/** `Write np.txt, Bash npm test` and `… and 2 more` past the first three. */
function nameActions(f: RefusalFacts, count: number): string {
  const named = (f.refused ?? []).slice(0, NAMED).map((a) => (a.target ? `${a.tool} ${a.target}` : a.tool));
  return count > named.length ? `${named.join(", ")} and ${count - named.length} more` : named.join(", ");
}

/**
 * The refusals of a run in words, or null when nothing was refused: `2 actions were refused
 * (Write np.txt, Bash npm test)`, or, when every edit was, `every edit was refused (Write np.txt;
 * permission mode default)` with `attention` set.
 */
export function describeRefusals(f: RefusalFacts): { text: string; attention: boolean } | null {
  const count = f.refusedCount ?? f.refused?.length ?? 0;
  if (count === 0) return null;
  const mode = f.permissionMode ? `; permission mode ${f.permissionMode}` : "";
  if (needsAttention(f)) return { text: `every edit was refused (${nameActions(f, count)}${mode})`, attention: true };
  return { text: `${count} action${count === 1 ? " was" : "s were"} refused (${nameActions(f, count)})`, attention: false };
}
