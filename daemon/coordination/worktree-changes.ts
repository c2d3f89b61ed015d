// What a `--worktree` worker changed, read with git: the worktree its meta records, the files that
// differ from the commit it started from (committed, uncommitted, untracked) and those it has not
// committed. The Claude settings cpwd copied in, still as copied, are not the worker's changes
// (their originals are in the source checkout). Shared by the digests and `cpwd diff` / `merge`.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { Worktree } from "../claude/worktree.js";

export interface GitRun {
  /** git's exit code (null when killed, e.g. by `timeoutMs`). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs git in `cwd` (argv, never a shell) to its end, whatever its exit code. */
export function runGit(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd, env: opts.env, timeout: opts.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      // A string code is a failure to run git at all (ENOENT: no git, or `cwd` is gone).
      if (typeof code === "string") reject(new CpwdError(ErrorCode.Io, `cannot run git in ${cwd}: ${err!.message}`, { cause: err }));
      else resolve({ code: err ? (typeof code === "number" ? code : null) : 0, stdout, stderr });
    });
  });
}

/** Runs git and resolves with its stdout; a non-zero exit rejects with git's own message. */
export async function git(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await runGit(cwd, args, opts);
  if (r.code !== 0) throw new CpwdError(ErrorCode.InvalidArgument, `git ${args.join(" ")} failed in ${cwd}: ${(r.stderr || `exit ${r.code}`).trim()}`);
  return r.stdout;
}

/** The entries of git's `-z` output. */
export function nulList(out: string): string[] {
  return out.split("\0").filter((p) => p !== "");
}

/** "a, b, c and 2 more": up to `max` paths named. */
export function listPaths(paths: string[], max = 5): string {
  const shown = paths.slice(0, max).join(", ");
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

/** The settings files cpwd copied into the worktree that still hold exactly the bytes copied. */
export async function untouchedCopies(wt: Worktree): Promise<string[]> {
  const untouched: string[] = [];
  for (const copy of wt.copiedSettings ?? []) {
    const now = await readFile(join(wt.path, copy.path)).catch(() => undefined);
    if (now && createHash("sha256").update(now).digest("hex") === copy.sha256) untouched.push(copy.path);
  }
  return untouched;
}

/** Pathspecs for `git diff` & co.: the whole worktree but the untouched copies. */
export function worktreePathspec(untouched: string[]): string[] {
  return ["--", ".", ...untouched.map((p) => `:(exclude,literal)${p}`)];
}

/**
 * Repo-relative paths, sorted, whose content in the worktree differs from `commit`'s: tracked
 * files changed (committed or not) and untracked files git does not ignore.
 */
async function filesDifferingFrom(wt: Worktree, commit: string, timeoutMs?: number): Promise<string[]> {
  const opts = timeoutMs === undefined ? {} : { timeoutMs };
  const [tracked, untracked, skip] = await Promise.all([
    git(wt.path, ["diff", "--name-only", "-z", "--no-renames", commit], opts),
    git(wt.path, ["ls-files", "--others", "--exclude-standard", "-z"], opts),
    untouchedCopies(wt),
  ]);
  const skipped = new Set(skip);
  return [...new Set([...nulList(tracked), ...nulList(untracked)])].filter((p) => !skipped.has(p)).sort();
}

/** Everything the worker changed since the commit it started from, committed or not. */
export function changedFiles(wt: Worktree, timeoutMs?: number): Promise<string[]> {
  return filesDifferingFrom(wt, wt.baseCommit, timeoutMs);
}

/** What the worker changed and has not committed on its branch. */
export function uncommittedFiles(wt: Worktree): Promise<string[]> {
  return filesDifferingFrom(wt, "HEAD");
}
