// Worktrees on a real git repository: created on cpwd/W<N>, removed only when nothing would be lost.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { createWorktree, removeWorktreeIfClean } from "../../daemon/claude/worktree.js";

let dir: string;
let repo: string;
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-wt-"));
  repo = join(dir, "repo");
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  git(repo, "config", "user.email", "t@example.com");
  git(repo, "config", "user.name", "t");
  writeFileSync(join(repo, "a.txt"), "a\n");
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "init");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a worktree is created on cpwd/W<N> and removed when it holds no work", async () => {
  const wt = await createWorktree(repo, "W3", join(dir, "wt-W3"));
  assert.equal(git(wt.path, "rev-parse", "--abbrev-ref", "HEAD"), "cpwd/W3");
  assert.deepEqual(await removeWorktreeIfClean(wt), { removed: true });
  assert.equal(existsSync(wt.path), false);
  assert.equal(git(repo, "branch", "--list", "cpwd/W3"), "");
});

test("uncommitted changes or unmerged commits keep the worktree, with the reason", async () => {
  const wt = await createWorktree(repo, "W4", join(dir, "wt-W4"));
  writeFileSync(join(wt.path, "b.txt"), "b\n");
  const dirty = await removeWorktreeIfClean(wt);
  assert.equal(dirty.removed, false);
  assert.match(!dirty.removed ? dirty.reason : "", /uncommitted/);
  git(wt.path, "add", ".");
  git(wt.path, "commit", "-qm", "work");
  const unmerged = await removeWorktreeIfClean(wt);
  assert.match(!unmerged.removed ? unmerged.reason : "", /1 commit not merged/);
  assert.ok(existsSync(wt.path));
  // Once merged, it goes.
  git(repo, "merge", "-q", "cpwd/W4");
  assert.deepEqual(await removeWorktreeIfClean(wt), { removed: true });
});

test("outside a git repository the error says so", async () => {
  await assert.rejects(createWorktree(dir, "W5", join(dir, "x")), /rev-parse --show-toplevel failed/);
});
