// Real git repositories for the worktree, diff and merge tests: git run in a folder, a fresh
// repository on main with a first commit, and a snapshot of what a checkout holds.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Runs `git ...args` in `cwd`; its stdout, trimmed. Throws when git fails. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

/**
 * Makes a repository at `repo` (created if missing) on branch main, its committer t@example.com,
 * with `files` (name → content, top-level) committed as "init". Returns `repo`.
 */
export function makeRepo(repo: string, files: Record<string, string>): string {
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.email", "t@example.com");
  git(repo, "config", "user.name", "t");
  for (const [name, content] of Object.entries(files)) writeFileSync(join(repo, name), content);
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "init");
  return repo;
}

/** What a checkout holds, as a refused merge must leave it (snapshotCheckout). */
export interface CheckoutSnapshot {
  head: string;
  /** `git status --porcelain`, untracked files listed one by one. */
  status: string;
  /** The bytes of each file asked for, in order; null where it does not exist. */
  files: Array<Buffer | null>;
  /** A merge is under way (.git/MERGE_HEAD exists). */
  merging: boolean;
}

/** Everything that says what the checkout at `repo` holds: HEAD, its status, the bytes of `files`, merge state. */
export function snapshotCheckout(repo: string, files: string[]): CheckoutSnapshot {
  return {
    head: git(repo, "rev-parse", "HEAD"),
    status: git(repo, "status", "--porcelain", "--untracked-files=all"),
    files: files.map((f) => (existsSync(join(repo, f)) ? readFileSync(join(repo, f)) : null)),
    merging: existsSync(join(repo, ".git", "MERGE_HEAD")),
  };
}
