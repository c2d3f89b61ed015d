// `cpwd claude --worktree`: the worker edits its own checkout on cpwd/W<N>; `cpwd merge --commit`
// brings its work into the main checkout, and a merge that conflicts leaves that checkout exactly as
// it was; `cpwd rm` removes a worktree when nothing would be lost and keeps it, saying why, when the
// branch holds work.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv } from "../helpers/claude.js";
import { startFakeApi, toolResults, type RecordedRequest, type Reply } from "../helpers/fake-messages-api.js";
import { git, makeRepo, snapshotCheckout } from "../helpers/git-repo.js";

/**
 * The model writes the file the prompt `edit FILE` names (a relative path: it lands in the worker's
 * checkout), then stops. The prompt is the last such text: the context before it may quote earlier
 * prompts (a commit cpwd made is named after its worker's prompt).
 */
function writeWhatIsAsked(req: RecordedRequest): Reply {
  const file = [...JSON.stringify(req.body?.messages ?? []).matchAll(/edit (\w+\.txt)/g)].at(-1)?.[1];
  if (toolResults(req).length > 0 || !file) return { text: "ok" };
  return { tool: { name: "Write", input: { file_path: file, content: `${file} from the worker\n` } } };
}

test("a --worktree Claude worker works on cpwd/W<N>; merge --commit brings its file in, a conflicting merge changes nothing; rm keeps a worktree with work and removes a clean one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-wt-e2e-"));
  const repo = join(dir, "repo");
  const home = join(dir, "home");
  mkdirSync(home);
  makeRepo(repo, { README: "r\n" });
  const api = await startFakeApi(writeWhatIsAsked);
  const d = await startDaemon();
  try {
    const env = { ...claudeEnv(api.url, home), CPWD_CLAUDE_BIN: CLAUDE_BIN } as Record<string, string>;
    const editing = cpwd(d.home, ["claude", "--worktree", "--cwd", repo, "--permission-mode", "acceptEdits", "edit notes.txt"], env).stdout.trim();
    const idle = cpwd(d.home, ["claude", "--worktree", "--cwd", repo, "just answer"], env).stdout.trim();
    const c = await d.client();
    const views = await waitFor("both workers to finish", async () => {
      const { workers } = await c.call("worker.list");
      return workers.every((w) => w.state === "exited") && workers.length === 2 ? workers : null;
    }, 60_000, 100);
    c.close();
    const wt = (views.find((w) => w.id === editing)!.meta as any).worktree;
    assert.equal(wt.branch, `cpwd/${editing}`);
    assert.equal(git(wt.path, "rev-parse", "--abbrev-ref", "HEAD"), `cpwd/${editing}`);
    assert.equal(readFileSync(join(wt.path, "notes.txt"), "utf8"), "notes.txt from the worker\n");
    assert.equal(existsSync(join(repo, "notes.txt")), false, "the main checkout is untouched");

    // The worker left its file uncommitted: --commit commits it on its branch, and the merge brings it in.
    const merged = cpwd(d.home, ["merge", editing, "--commit"]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, new RegExp(`^committed ${editing}'s uncommitted changes on cpwd/${editing} as [0-9a-f]+\\n`));
    assert.match(merged.stdout, new RegExp(`merged cpwd/${editing} into main: 1 commit, 1 file changed\\n`));
    assert.equal(readFileSync(join(repo, "notes.txt"), "utf8"), "notes.txt from the worker\n");
    assert.equal(git(repo, "status", "--porcelain"), "", "merged clean");
    assert.equal(git(repo, "log", "-1", "--format=%s", "--", "notes.txt").startsWith(`cpwd ${editing}:`), true);

    // A second worker writes clash.txt; the main checkout meanwhile commits its own clash.txt.
    const clashing = cpwd(d.home, ["claude", "--worktree", "--cwd", repo, "--permission-mode", "acceptEdits", "edit clash.txt"], env).stdout.trim();
    const c2 = await d.client();
    await waitFor(`${clashing} to finish`, async () => (await c2.call("worker.get", { target: clashing })).workers[0]?.state === "exited", 60_000, 100);
    c2.close();
    const clashWt = join(d.home, "worktrees", clashing);
    assert.equal(readFileSync(join(clashWt, "clash.txt"), "utf8"), "clash.txt from the worker\n");
    writeFileSync(join(repo, "clash.txt"), "main's own clash.txt\n");
    git(repo, "add", "clash.txt");
    git(repo, "commit", "-qm", "main writes clash.txt");
    const before = snapshotCheckout(repo, ["README", "notes.txt", "clash.txt"]);
    const refused = cpwd(d.home, ["merge", clashing, "--commit"]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, new RegExp(`cpwd merge: cpwd/${clashing} conflicts with main in clash\\.txt; .* was not touched\\. Resolve by hand: \`git merge cpwd/${clashing}\``));
    assert.deepEqual(snapshotCheckout(repo, ["README", "notes.txt", "clash.txt"]), before, "HEAD, status and the file bytes as they were");
    assert.equal(readFileSync(join(repo, "clash.txt"), "utf8"), "main's own clash.txt\n");

    // Its branch holds the commit that was not merged: rm keeps the worktree and says why.
    const kept = cpwd(d.home, ["rm", clashing]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, new RegExp(`kept worktree .*: branch cpwd/${clashing} has 1 commit not merged into HEAD`));
    assert.ok(existsSync(clashWt));
    // Merged, the first worker's worktree holds nothing to lose; the idle one never held anything.
    assert.match(cpwd(d.home, ["rm", editing]).stdout, new RegExp(`removed worktree .* and branch cpwd/${editing}`));
    const removed = cpwd(d.home, ["rm", idle]);
    assert.match(removed.stdout, new RegExp(`removed worktree .* and branch cpwd/${idle}`));
    assert.equal(git(repo, "branch", "--list", `cpwd/${idle}`), "");
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(dir, { recursive: true, force: true });
  }
});
