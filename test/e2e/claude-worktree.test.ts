// `cpwd claude --worktree`: the worker edits its own checkout on cpwd/W<N>; `cpwd rm` removes it
// when nothing would be lost and keeps it, saying why, when the branch holds work.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv } from "../helpers/claude.js";
import { startFakeApi, toolResults } from "../helpers/fake-messages-api.js";
import { git, makeRepo } from "../helpers/git-repo.js";

test("a --worktree Claude worker works on cpwd/W<N>; rm keeps a worktree with work and removes a clean one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-wt-e2e-"));
  const repo = join(dir, "repo");
  const home = join(dir, "home");
  mkdirSync(home);
  makeRepo(repo, { README: "r\n" });
  // The model writes notes.txt (a relative path: it lands in the worker's checkout) and stops.
  const api = await startFakeApi((req) => (toolResults(req).length > 0 || !/edit notes/.test(JSON.stringify(req.body.messages)) ? { text: "ok" } : { tool: { name: "Write", input: { file_path: "notes.txt", content: "from the worker\n" } } }));
  const d = await startDaemon();
  try {
    const env = { ...claudeEnv(api.url, home), CPWD_CLAUDE_BIN: CLAUDE_BIN } as Record<string, string>;
    const editing = cpwd(d.home, ["claude", "--worktree", "--cwd", repo, "--permission-mode", "acceptEdits", "edit notes"], env).stdout.trim();
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
    assert.equal(readFileSync(join(wt.path, "notes.txt"), "utf8"), "from the worker\n");
    assert.equal(existsSync(join(repo, "notes.txt")), false, "the main checkout is untouched");

    const kept = cpwd(d.home, ["rm", editing]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, new RegExp(`kept worktree .*uncommitted changes`));
    assert.ok(existsSync(wt.path));
    const removed = cpwd(d.home, ["rm", idle]);
    assert.match(removed.stdout, new RegExp(`removed worktree .* and branch cpwd/${idle}`));
    assert.equal(git(repo, "branch", "--list", `cpwd/${idle}`), "");
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(dir, { recursive: true, force: true });
  }
});
