// Worktrees on a real git repository: created on cpwd/W<N> with the uncommitted Claude settings
// copied in, removed only when nothing would be lost.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { createWorktree, removeWorktreeIfClean } from "../../daemon/claude/worktree.js";
import { git, makeRepo } from "../helpers/git-repo.js";

let dir: string;
let repo: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-wt-"));
  repo = makeRepo(join(dir, "repo"), { "a.txt": "a\n" });
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
  assert.match(!dirty.removed ? dirty.reason : "", /uncommitted changes \(b\.txt\)/);
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

/** Writes `content` at `rel` inside `root`, making folders as needed. */
function put(root: string, rel: string, content: string | Buffer): void {
  mkdirSync(join(root, rel, ".."), { recursive: true });
  writeFileSync(join(root, rel), content);
}

test("uncommitted Claude settings are copied into the worktree byte for byte; committed ones stay as committed", async () => {
  const local = '{"permissions":{"allow":["Bash(npm test)"]}}\n';
  put(repo, ".claude/settings.local.json", local);
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "local settings");
  // What `cpwd hooks install` leaves behind, not committed: odd bytes on purpose (CRLF, no final newline).
  const settings = Buffer.from('{\r\n  "hooks": { "PreToolUse": [] },\r\n  "note": "caf\u00e9"\r\n}', "utf8");
  put(repo, ".claude/settings.json", settings);
  put(repo, ".claude/skills/cpwd/SKILL.md", "# cpwd\n");
  put(repo, "scratch.txt", "not a settings file\n");

  const wt = await createWorktree(repo, "W6", join(dir, "wt-W6"));
  assert.deepEqual(wt.copiedSettings?.map((c) => c.path), [".claude/settings.json", ".claude/skills/cpwd/SKILL.md"]);
  assert.ok(readFileSync(join(wt.path, ".claude/settings.json")).equals(settings));
  assert.equal(readFileSync(join(wt.path, ".claude/skills/cpwd/SKILL.md"), "utf8"), "# cpwd\n");
  assert.equal(readFileSync(join(wt.path, ".claude/settings.local.json"), "utf8"), local);
  assert.equal(existsSync(join(wt.path, "scratch.txt")), false, "only the settings files are copied");
  // The copies alone hold no work: the worktree still goes.
  assert.deepEqual(await removeWorktreeIfClean(wt), { removed: true });
  assert.equal(existsSync(wt.path), false);
});

test("a committed settings file modified in the checkout is copied; once the worker changes the copy the worktree is kept", async () => {
  put(repo, ".claude/settings.json", '{"v":1}\n');
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "settings v1");
  put(repo, ".claude/settings.json", '{"v":2}\n');

  const wt = await createWorktree(repo, "W7", join(dir, "wt-W7"));
  assert.deepEqual(wt.copiedSettings?.map((c) => c.path), [".claude/settings.json"]);
  assert.equal(readFileSync(join(wt.path, ".claude/settings.json"), "utf8"), '{"v":2}\n');
  put(wt.path, ".claude/settings.json", '{"v":3}\n');
  const kept = await removeWorktreeIfClean(wt);
  assert.match(!kept.removed ? kept.reason : "", /uncommitted changes \(\.claude\/settings\.json\)/);
  assert.ok(existsSync(wt.path));
});

test("a committed symlink in the way is left alone: nothing is written through it", async () => {
  mkdirSync(join(repo, ".claude"));
  symlinkSync("../a.txt", join(repo, ".claude/settings.json"));
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "linked settings");
  unlinkSync(join(repo, ".claude/settings.json"));
  put(repo, ".claude/settings.json", '{"hooks":{}}\n');

  const wt = await createWorktree(repo, "W8", join(dir, "wt-W8"));
  assert.deepEqual(wt.copiedSettings, []);
  assert.ok(lstatSync(join(wt.path, ".claude/settings.json")).isSymbolicLink());
  assert.equal(readFileSync(join(wt.path, "a.txt"), "utf8"), "a\n");
});

test("a settings path that is not a regular file (a FIFO) is skipped, never read", async () => {
  mkdirSync(join(repo, ".claude"), { recursive: true });
  execFileSync("mkfifo", [join(repo, ".claude", "settings.json")]);
  const wt = await createWorktree(repo, "W8", join(dir, "wt-W8"));
  assert.deepEqual(wt.copiedSettings, []);
  assert.equal(existsSync(join(wt.path, ".claude", "settings.json")), false);
  assert.deepEqual(await removeWorktreeIfClean(wt), { removed: true });
});
