// Real git repositories for the worktree and diff tests: git run in a folder, and a fresh
// repository on main with a first commit.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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
