// `cpwd diff` and `cpwd merge` on a real git repository, with `--worktree` workers made by a real
// daemon running a fake claude: a shell script that runs its prompt in the worker's worktree.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { cleanup, cpwd, startDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { git, makeRepo as makeGitRepo, snapshotCheckout } from "../helpers/git-repo.js";

let dir: string;
let d: TestDaemon;
let c: RpcClient;
let env: Record<string, string>;
let repoCount = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cpwd-diff-merge-"));
  // The fake claude: `claude -p PROMPT …` runs PROMPT as a shell script, in the worktree.
  const bin = join(dir, "fake-claude");
  writeFileSync(bin, '#!/bin/sh\nexec /bin/sh -c "$2"\n', { mode: 0o755 });
  env = { CPWD_CLAUDE_BIN: bin };
  d = await startDaemon();
  c = await d.client();
});

after(async () => {
  c.close();
  await cleanup(d);
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh repository on main: a.txt and b.txt, committed; cpwd's hook settings left uncommitted. */
function makeRepo(): string {
  const repo = makeGitRepo(join(dir, `repo${++repoCount}`), { "a.txt": "a\n", "b.txt": "b\n" });
  // What `cpwd hooks install` leaves: copied into each worktree, and not the worker's change.
  mkdirSync(join(repo, ".claude"));
  writeFileSync(join(repo, ".claude", "settings.json"), '{"hooks":{}}\n');
  return repo;
}

/** Starts a `--worktree` worker whose "session" is the shell script `script`; resolves its id once it has ended. */
async function worker(repo: string, script: string, opts: { wait?: boolean } = {}): Promise<string> {
  const r = cpwd(d.home, ["claude", "--worktree", "--cwd", repo, script], env);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  if (opts.wait !== false) {
    await waitFor(`${id} to end`, async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "exited", 15_000, 50);
  }
  return id;
}

/** What the checkout holds: HEAD, status, the bytes of the files these tests touch, merge state. */
const snapshot = (repo: string) => snapshotCheckout(repo, ["a.txt", "b.txt", "c.txt", "notes.txt"]);

const COMMIT_A = "echo a2 > a.txt && git commit -qam 'change a'";

test("cpwd diff shows a worker's commits and uncommitted changes against its base, new files included; --stat sums them; the daemon may be down", async () => {
  const repo = makeRepo();
  const id = await worker(repo, `${COMMIT_A} && echo b2 > b.txt && echo n > notes.txt`);
  // The main checkout moves on: that is not the worker's change.
  writeFileSync(join(repo, "c.txt"), "c\n");
  git(repo, "add", "c.txt");
  git(repo, "commit", "-qm", "main moves on");

  const diff = cpwd(d.home, ["diff", id]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^diff --git a\/a\.txt b\/a\.txt$[\s\S]*^\+a2$/m, "the committed change");
  assert.match(diff.stdout, /^diff --git a\/b\.txt b\/b\.txt$[\s\S]*^\+b2$/m, "the uncommitted change");
  assert.match(diff.stdout, /^diff --git a\/notes\.txt b\/notes\.txt\nnew file mode/m, "the new, untracked file");
  assert.doesNotMatch(diff.stdout, /c\.txt|\.claude/, "neither the main checkout's commit nor the settings cpwd copied in");

  const stat = cpwd(d.home, ["diff", id, "--stat"]);
  assert.match(stat.stdout, /^ a\.txt\s+\| 2 \+-$/m);
  assert.match(stat.stdout, /3 files changed, 3 insertions\(\+\), 2 deletions\(-\)/);
  // The worker's own index is untouched: notes.txt is still untracked there.
  const wt = join(d.home, "worktrees", id);
  assert.match(git(wt, "status", "--porcelain"), /^\?\? notes\.txt$/m);

  const clean = await worker(repo, "true");
  const none = cpwd(d.home, ["diff", clean]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /^no changes in .* since [0-9a-f]{12}\n$/);

  await d.stop();
  try {
    const offline = cpwd(d.home, ["diff", id, "--stat"]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stdout, stat.stdout, "read from events.jsonl, the same");
  } finally {
    d = await startDaemon(d.home);
    c.close();
    c = await d.client();
  }
});

test("cpwd diff and merge name what is wrong with a target", async () => {
  const plain = cpwd(d.home, ["spawn", "--", "/bin/sh", "-c", "exit 0"]).stdout.trim();
  const r = cpwd(d.home, ["diff", plain]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^cpwd diff: ${plain} has no worktree of its own: it was not started with \`cpwd claude --worktree\``));
  assert.match(cpwd(d.home, ["merge", "W999"]).stderr, /^cpwd merge: no worker W999/);
  const usage = cpwd(d.home, ["diff"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^cpwd diff: name one worker \(W3 or a name\)\nusage: cpwd diff/);
  for (const name of ["diff", "merge"]) assert.match(cpwd(d.home, [name, "--help"]).stdout, new RegExp(`^usage: cpwd ${name} W3\\|NAME`));
});

test("cpwd merge refuses a running worker, a dirty checkout and uncommitted work, then merges with --commit and says what", async () => {
  const repo = makeRepo();
  const busy = await worker(repo, "sleep 30", { wait: false });
  await waitFor("the busy worker to run", async () => (await c.call("worker.get", { target: busy })).workers[0]?.state === "running", 10_000, 50);
  const running = cpwd(d.home, ["merge", busy]);
  assert.equal(running.code, 1);
  assert.match(running.stderr, new RegExp(`^cpwd merge: ${busy} is running: merge once it has ended \\(\`cpwd stop ${busy}\` ends it now\\)`));
  cpwd(d.home, ["stop", busy]);

  const id = await worker(repo, `${COMMIT_A} && echo n > notes.txt`);
  writeFileSync(join(repo, "b.txt"), "mine\n");
  const before = snapshot(repo);
  const dirty = cpwd(d.home, ["merge", id]);
  assert.equal(dirty.code, 1);
  assert.match(dirty.stderr, /has uncommitted changes \(b\.txt\): commit or stash them, then merge/);
  assert.deepEqual(snapshot(repo), before);
  git(repo, "checkout", "-q", "b.txt");

  const leftovers = cpwd(d.home, ["merge", id]);
  assert.equal(leftovers.code, 1);
  assert.match(leftovers.stderr, new RegExp(`${id} left changes uncommitted in .* \\(notes\\.txt\\): \`cpwd merge ${id} --commit\``));
  assert.equal(git(repo, "rev-parse", "HEAD"), before.head);

  const merged = cpwd(d.home, ["merge", id, "--commit"]);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, new RegExp(`^committed ${id}'s uncommitted changes on cpwd/${id} as [0-9a-f]+\\n`));
  assert.match(merged.stdout, new RegExp(`merged cpwd/${id} into main: 2 commits, 2 files changed\\n  [0-9a-f]+ cpwd ${id}: echo a2[^\\n]*\\n  [0-9a-f]+ change a\\n`));
  assert.match(merged.stdout, / a\.txt\s+\| 2 \+-\n notes\.txt \| 1 \+/);
  assert.equal(readFileSync(join(repo, "notes.txt"), "utf8"), "n\n");
  assert.equal(git(repo, "status", "--porcelain"), "?? .claude/", "merged clean; the copied settings were not committed");
  assert.match(cpwd(d.home, ["merge", id]).stdout, /^nothing to merge: cpwd\/W\d+ has no commits that main lacks/);
  // Merged, the worktree holds nothing to lose: rm takes it and its branch.
  assert.match(cpwd(d.home, ["rm", id]).stdout, new RegExp(`removed worktree .* and branch cpwd/${id}`));
});

test("a conflicting merge is refused and leaves the checkout exactly as it was", async () => {
  const repo = makeRepo();
  const id = await worker(repo, COMMIT_A);
  writeFileSync(join(repo, "a.txt"), "main's a\n");
  git(repo, "commit", "-qam", "main changes a");
  writeFileSync(join(repo, "scratch.txt"), "untracked, mine\n");
  const before = snapshot(repo);
  const r = cpwd(d.home, ["merge", id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^cpwd merge: cpwd/${id} conflicts with main in a\\.txt; .* was not touched\\. Resolve by hand: \`git merge cpwd/${id}\``));
  assert.deepEqual(snapshot(repo), before);
  assert.equal(readFileSync(join(repo, "scratch.txt"), "utf8"), "untracked, mine\n");
});

test("a merge git starts and cannot finish (a pre-merge-commit hook refuses) is aborted: the checkout is as it was", async () => {
  const repo = makeRepo();
  const id = await worker(repo, COMMIT_A);
  writeFileSync(join(repo, "c.txt"), "c\n");
  git(repo, "add", "c.txt");
  git(repo, "commit", "-qm", "main adds c");
  writeFileSync(join(repo, ".git", "hooks", "pre-merge-commit"), "#!/bin/sh\necho 'no merges today' >&2\nexit 1\n", { mode: 0o755 });
  const before = snapshot(repo);
  const r = cpwd(d.home, ["merge", id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /git merge cpwd\/W\d+ failed: no merges today[\s\S]*the merge was aborted: .* is as it was/);
  assert.deepEqual(snapshot(repo), before);
});

test("a conductor's digest says how many files a --worktree worker changed and names cpwd diff", async () => {
  const repo = makeRepo();
  const id = await worker(repo, `${COMMIT_A} && echo n > notes.txt`);
  const quiet = await worker(repo, "true");
  const r = await c.call("hook.handle", { event: { hook_event_name: "SessionStart", session_id: `digest-${id}`, cwd: repo } });
  const text = String((r.output as any)?.hookSpecificOutput?.additionalContext);
  assert.match(text, new RegExp(`- ${id} exited 0 .*, 2 files changed in its worktree: see \`cpwd diff ${id}\``));
  assert.match(text, new RegExp(`- ${quiet} exited 0 .*, no files changed in its worktree`));
});
