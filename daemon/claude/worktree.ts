// Git worktrees for Claude workers: each `--worktree` worker edits its own checkout on a branch
// `cpwd/W<N>`, so parallel workers do not trample each other; the source checkout's uncommitted
// Claude settings are copied in. Removal only when the branch holds no work that is not already in
// the commit it started from, and the checkout has no changes.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, lstat, mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { plural } from "../../src/protocol/plural.js";

const run = promisify(execFile);

/** Runs git in `cwd` and returns its stdout as printed (untrimmed). */
async function gitRaw(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CpwdError(ErrorCode.InvalidArgument, `git ${args.join(" ")} failed in ${cwd}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

const git = async (cwd: string, args: string[]): Promise<string> => (await gitRaw(cwd, args)).trim();

export interface Worktree {
  /** The repository's top folder. */
  repo: string;
  path: string;
  branch: string;
  /** The commit the branch started from. */
  baseCommit: string;
  /**
   * Claude settings copied from the source checkout because HEAD lacks them or has them different
   * (repo-relative path, and the sha256 of what was copied). Absent in worktrees made before.
   */
  copiedSettings?: CopiedFile[];
}

export interface CopiedFile {
  path: string;
  sha256: string;
}

const WorktreeSchema: z.ZodType<Worktree> = z.object({
  repo: z.string(),
  path: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
  copiedSettings: z.array(z.object({ path: z.string(), sha256: z.string() })).optional(),
});

/** The worktree a worker's meta records, if it records one: meta is replayed from disk, so checked. */
export function recordedWorktree(meta: Record<string, unknown>): Worktree | undefined {
  const parsed = WorktreeSchema.safeParse(meta.worktree);
  return parsed.success ? parsed.data : undefined;
}

/**
 * What makes a Claude worker a cpwd worker: `cpwd hooks install` writes these, and until they are
 * committed a fresh worktree (a checkout of HEAD) lacks them or holds an older copy, so the worker
 * would run without cpwd's hooks — claiming nothing, its session unrecorded. Nothing else is copied.
 */
export const CLAUDE_SETTINGS_FILES = [".claude/settings.json", ".claude/settings.local.json", ".claude/skills/cpwd/SKILL.md"];

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Whether `rel` can be written under `root` without following a link: every part that exists is a folder, the file a regular file. */
async function isPlainPath(root: string, rel: string): Promise<boolean> {
  const parts = rel.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (st === undefined) return true;
    if (i < parts.length ? !st.isDirectory() : !st.isFile()) return false;
  }
  return true;
}

/**
 * Copies each settings file that exists in `repo` into the worktree at `path` where the worktree
 * lacks it or holds different bytes. A committed symlink or folder in the way is left alone, so
 * nothing is written through a link and nothing but these files is ever overwritten.
 */
async function copyClaudeSettings(repo: string, path: string): Promise<CopiedFile[]> {
  const copied: CopiedFile[] = [];
  for (const rel of CLAUDE_SETTINGS_FILES) {
    // Regular files only: a FIFO or device there would block the read (and the spawn with it).
    const kind = await stat(join(repo, rel)).catch(() => null);
    if (!kind?.isFile()) continue;
    const source = await readIfExists(join(repo, rel));
    if (source === undefined || !(await isPlainPath(path, rel))) continue;
    const target = join(path, rel);
    const present = await readIfExists(target);
    if (present?.equals(source)) continue;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(repo, rel), target); // the bytes and mode as they are
    copied.push({ path: rel, sha256: sha256((await readIfExists(target)) ?? source) });
  }
  return copied;
}

/**
 * Creates `<path>` as a worktree of the repo containing `cwd`, on a new branch `cpwd/<id>`, with
 * the repo's uncommitted Claude settings copied in (listed in `copiedSettings`).
 */
export async function createWorktree(cwd: string, workerId: string, path: string): Promise<Worktree> {
  const repo = await git(cwd, ["rev-parse", "--show-toplevel"]);
  const baseCommit = await git(repo, ["rev-parse", "HEAD"]);
  const branch = `cpwd/${workerId}`;
  await git(repo, ["worktree", "add", "-b", branch, path, baseCommit]);
  try {
    const copiedSettings = await copyClaudeSettings(repo, path);
    return { repo, path, branch, baseCommit, copiedSettings };
  } catch (err) {
    // The worker is refused: its worktree and branch, still empty of work, go with it.
    await git(repo, ["worktree", "remove", "--force", path]).catch(() => "");
    await git(repo, ["branch", "-D", branch]).catch(() => "");
    throw err;
  }
}

/** Paths `git status --porcelain -z` reports changed (for a rename, the new path only). */
function changedPaths(porcelainZ: string): string[] {
  const paths: string[] = [];
  const entries = porcelainZ.split("\0");
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.length < 4) continue;
    paths.push(e.slice(3));
    if (e[0] === "R" || e[0] === "C") i++; // the original path follows
  }
  return paths;
}

/** Whether `rel` is a settings file cpwd copied in and still holds exactly what was copied. */
async function isUntouchedCopy(wt: Worktree, rel: string): Promise<boolean> {
  const copy = wt.copiedSettings?.find((c) => c.path === rel);
  if (!copy) return false;
  const now = await readIfExists(join(wt.path, rel));
  return now !== undefined && sha256(now) === copy.sha256;
}

export type RemoveOutcome = { removed: true } | { removed: false; reason: string };

/**
 * Removes the worktree and its branch if nothing would be lost: no uncommitted changes (the
 * settings cpwd copied in, still as copied, do not count: their originals are in the source
 * checkout), and no commits on the branch beyond the base (or all of them merged into HEAD).
 */
export async function removeWorktreeIfClean(wt: Worktree): Promise<RemoveOutcome> {
  let changed: string[];
  try {
    changed = changedPaths(await gitRaw(wt.path, ["status", "--porcelain", "-z", "--untracked-files=all"]));
  } catch {
    // The checkout is gone already; prune the registration and drop an empty branch.
    await git(wt.repo, ["worktree", "prune"]).catch(() => "");
    changed = [];
  }
  const dirty: string[] = [];
  for (const rel of changed) if (!(await isUntouchedCopy(wt, rel))) dirty.push(rel);
  if (dirty.length > 0) {
    const shown = dirty.slice(0, 3).join(", ") + (dirty.length > 3 ? `, and ${dirty.length - 3} more` : "");
    return { removed: false, reason: `${wt.path} has uncommitted changes (${shown})` };
  }
  const ahead = Number(await git(wt.repo, ["rev-list", "--count", `${wt.baseCommit}..${wt.branch}`]).catch(() => "0"));
  if (ahead > 0) {
    const unmerged = Number(await git(wt.repo, ["rev-list", "--count", `HEAD..${wt.branch}`]).catch(() => String(ahead)));
    if (unmerged > 0) return { removed: false, reason: `branch ${wt.branch} has ${plural(unmerged, "commit")} not merged into HEAD` };
  }
  await git(wt.repo, ["worktree", "remove", "--force", wt.path]).catch(() => "");
  await git(wt.repo, ["branch", "-D", wt.branch]).catch(() => "");
  return { removed: true };
}
