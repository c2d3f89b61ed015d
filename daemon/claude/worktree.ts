// Git worktrees for Claude workers: each `--worktree` worker edits its own checkout on a branch
// `cpwd/W<N>`, so parallel workers do not trample each other. Removal only when the branch holds
// no work that is not already in the commit it started from, and the checkout has no changes.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CpwdError(ErrorCode.InvalidArgument, `git ${args.join(" ")} failed in ${cwd}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

export interface Worktree {
  /** The repository's top folder. */
  repo: string;
  path: string;
  branch: string;
  /** The commit the branch started from. */
  baseCommit: string;
}

/** Creates `<path>` as a worktree of the repo containing `cwd`, on a new branch `cpwd/<id>`. */
export async function createWorktree(cwd: string, workerId: string, path: string): Promise<Worktree> {
  const repo = await git(cwd, ["rev-parse", "--show-toplevel"]);
  const baseCommit = await git(repo, ["rev-parse", "HEAD"]);
  const branch = `cpwd/${workerId}`;
  await git(repo, ["worktree", "add", "-b", branch, path, baseCommit]);
  return { repo, path, branch, baseCommit };
}

export type RemoveOutcome = { removed: true } | { removed: false; reason: string };

/**
 * Removes the worktree and its branch if nothing would be lost: no uncommitted changes, and no
 * commits on the branch beyond the base (or all of them already merged into the repo's HEAD).
 */
export async function removeWorktreeIfClean(wt: Worktree): Promise<RemoveOutcome> {
  let dirty: string;
  try {
    dirty = await git(wt.path, ["status", "--porcelain"]);
  } catch {
    // The checkout is gone already; prune the registration and drop an empty branch.
    await git(wt.repo, ["worktree", "prune"]).catch(() => "");
    dirty = "";
  }
  if (dirty !== "") return { removed: false, reason: `${wt.path} has uncommitted changes` };
  const ahead = Number(await git(wt.repo, ["rev-list", "--count", `${wt.baseCommit}..${wt.branch}`]).catch(() => "0"));
  if (ahead > 0) {
    const unmerged = Number(await git(wt.repo, ["rev-list", "--count", `HEAD..${wt.branch}`]).catch(() => String(ahead)));
    if (unmerged > 0) return { removed: false, reason: `branch ${wt.branch} has ${unmerged} commit${unmerged === 1 ? "" : "s"} not merged into HEAD` };
  }
  await git(wt.repo, ["worktree", "remove", "--force", wt.path]).catch(() => "");
  await git(wt.repo, ["branch", "-D", wt.branch]).catch(() => "");
  return { removed: true };
}
