// `cpwd merge W3 [--commit]`: merges a `--worktree` worker's branch into the current branch of the
// checkout it was made from. Refuses, changing nothing, while the worker may still run, when that
// checkout has uncommitted changes, when the worker left changes uncommitted (`--commit` commits
// them on its branch first), and when the merge would conflict; a merge that fails anyway is
// aborted, so the checkout is never left half-merged.
import type { Writable } from "node:stream";
import { git, listPaths, nulList, runGit, uncommittedFiles, untouchedCopies, worktreePathspec } from "../../daemon/coordination/worktree-changes.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { plural } from "../../src/protocol/plural.js";
import { FINAL_STATES } from "../../src/protocol/workers.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { worktreeTarget, type WorktreeTarget } from "../worktree-target.js";

const refuse = (message: string) => new CpwdError(ErrorCode.InvalidState, message);

/** Throws unless the worker has ended for good: a worker that may still run may still edit. */
function checkEnded(t: WorktreeTarget): void {
  if (FINAL_STATES.has(t.state)) return;
  const recorded = t.fromLog ? " (as last recorded: the daemon is not running)" : "";
  throw refuse(`${t.id} is ${t.state}${recorded}: merge once it has ended (\`cpwd stop ${t.id}\` ends it now)`);
}

/** Throws if the checkout has uncommitted changes to tracked files (untracked files are git's to check). */
async function checkClean(repo: string): Promise<void> {
  const dirty = nulList(await git(repo, ["diff", "--name-only", "-z", "HEAD"]));
  if (dirty.length > 0) throw refuse(`${repo} has uncommitted changes (${listPaths(dirty)}): commit or stash them, then merge`);
}

/** The worker's uncommitted changes: refused, or with `--commit` committed on its branch. Returns the commit made, if any. */
async function settleLeftovers(t: WorktreeTarget, commit: boolean): Promise<string | null> {
  const wt = t.worktree;
  const left = await uncommittedFiles(wt);
  if (left.length === 0) return null;
  if (!commit) {
    throw refuse(`${t.id} left changes uncommitted in ${wt.path} (${listPaths(left)}): \`cpwd merge ${t.id} --commit\` commits them on ${wt.branch} and merges`);
  }
  const onBranch = (await git(wt.path, ["symbolic-ref", "--short", "-q", "HEAD"]).catch(() => "")).trim();
  if (onBranch !== wt.branch) throw refuse(`${wt.path} is not on ${wt.branch} (it is on ${onBranch || "a detached HEAD"}): commit there by hand`);
  await git(wt.path, ["add", "--all", ...worktreePathspec(await untouchedCopies(wt))]);
  const first = typeof t.meta.prompt === "string" ? t.meta.prompt.split("\n")[0]! : "";
  const prompt = first === "" ? "" : `: ${first.length > 60 ? `${first.slice(0, 59)}…` : first}`;
  await git(wt.path, ["commit", "-q", "-m", `cpwd ${t.id}${prompt}`, "-m", "Committed by `cpwd merge --commit`: the worker's uncommitted changes."]);
  return (await git(wt.path, ["rev-parse", "--short", "HEAD"])).trim();
}

/** Files the merge would conflict in, asked of `git merge-tree` without touching the checkout; null if this git cannot tell. */
async function predictConflicts(repo: string, branch: string): Promise<string[] | null> {
  const r = await runGit(repo, ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", "HEAD", branch]);
  if (r.code === 0) return [];
  if (r.code === 1) return nulList(r.stdout).slice(1); // the tree written, then the conflicted files
  return null; // git before 2.38 (no --write-tree): the merge below is aborted if it fails
}

/** `git merge`; on failure the merge is aborted and HEAD checked, and the error says what happened. */
async function mergeOrAbort(repo: string, branch: string, before: string): Promise<void> {
  const merged = await runGit(repo, ["merge", "--no-edit", branch]);
  if (merged.code === 0) return;
  const conflicted = nulList(await git(repo, ["diff", "--name-only", "-z", "--diff-filter=U"]).catch(() => ""));
  const inMerge = (await runGit(repo, ["rev-parse", "-q", "--verify", "MERGE_HEAD"])).code === 0;
  const aborted = inMerge ? await runGit(repo, ["merge", "--abort"]) : { code: 0, stderr: "" };
  const head = (await git(repo, ["rev-parse", "HEAD"])).trim();
  const why = (merged.stderr || merged.stdout).trim();
  if (aborted.code !== 0 || head !== before) {
    throw new CpwdError(ErrorCode.Io, `git merge ${branch} failed (${why}) and the checkout could not be restored (${aborted.stderr.trim() || `HEAD moved to ${head}`}): see \`git status\` in ${repo}`);
  }
  const where = conflicted.length > 0 ? ` in ${listPaths(conflicted)}` : "";
  throw refuse(`git merge ${branch} failed${where}: ${why}\nthe merge was aborted: ${repo} is as it was`);
}

/** What merged: the commits (newest first, up to 20), then git's summary of the files. */
async function report(out: Writable, t: WorktreeTarget, into: string, before: string, commits: string[]): Promise<void> {
  const { repo, branch } = t.worktree;
  const files = nulList(await git(repo, ["diff", "--name-only", "-z", before, "HEAD"]));
  writeLine(out, `merged ${branch} into ${into}: ${plural(commits.length, "commit")}, ${plural(files.length, "file")} changed`);
  for (const line of commits.slice(0, 20)) writeLine(out, `  ${line}`);
  if (commits.length > 20) writeLine(out, `  … and ${commits.length - 20} more (\`git log ${before.slice(0, 12)}..${branch}\`)`);
  writeLine(out, (await git(repo, ["diff", "--stat", before, "HEAD"])).trimEnd());
  writeLine(out, `(\`cpwd rm ${t.id}\` now removes its worktree and branch)`);
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { commit: { kind: "bool" } });
  if (positionals.length !== 1) throw usageError("name one worker (W3 or a name)");
  try {
    const t = await worktreeTarget(ctx, positionals[0]!);
    const { repo, branch } = t.worktree;
    checkEnded(t);
    await checkClean(repo);
    const committed = await settleLeftovers(t, flags.commit === true);
    if (committed) writeLine(ctx.stdout, `committed ${t.id}'s uncommitted changes on ${branch} as ${committed}`);
    const into = (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"]).catch(() => "")).trim() || "HEAD (detached)";
    const before = (await git(repo, ["rev-parse", "HEAD"])).trim();
    const commits = nulList(await git(repo, ["log", "-z", "--format=%h %s", `${before}..${branch}`]));
    if (commits.length === 0) {
      writeLine(ctx.stdout, `nothing to merge: ${branch} has no commits that ${into} lacks`);
      return 0;
    }
    const conflicts = await predictConflicts(repo, branch);
    if (conflicts && conflicts.length > 0) {
      throw refuse(`${branch} conflicts with ${into} in ${listPaths(conflicts)}; ${repo} was not touched. Resolve by hand: \`git merge ${branch}\` in ${repo}`);
    }
    await mergeOrAbort(repo, branch, before);
    await report(ctx.stdout, t, into, before, commits);
    return 0;
  } catch (err) {
    writeLine(ctx.stderr, `cpwd merge: ${(err as Error).message}`);
    return 1;
  }
};
