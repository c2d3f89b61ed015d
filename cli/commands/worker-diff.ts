// `cpwd diff W3 [--stat]`: a `--worktree` worker's changes against the commit it started from —
// its commits and what it left uncommitted, new files included — as `git diff` prints them. Works
// with the daemon down (the worktree is read from events.jsonl).
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Worktree } from "../../daemon/claude/worktree.js";
import { git, untouchedCopies, worktreePathspec } from "../../daemon/coordination/worktree-changes.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { worktreeTarget } from "../worktree-target.js";

/**
 * Runs `fn` with an environment whose GIT_INDEX_FILE is a scratch copy of the worktree's index in
 * which its untracked files are marked intent-to-add, so `git diff BASE` shows them as new files.
 * The worktree's own index is never written: a diff must not change what the worker staged.
 */
async function withUntrackedShown<T>(wt: Worktree, ctx: CliContext, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const index = resolve(wt.path, (await git(wt.path, ["rev-parse", "--git-path", "index"])).trim());
  const dir = mkdtempSync(join(tmpdir(), "cpwd-diff-"));
  // Also when a reader that went away ends the CLI at once (`cpwd diff W3 | head`: EPIPE, exit).
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);
  try {
    const env = { ...ctx.env, GIT_INDEX_FILE: join(dir, "index") };
    copyFileSync(index, env.GIT_INDEX_FILE);
    await git(wt.path, ["add", "--intent-to-add", "--", "."], { env });
    return await fn(env);
  } finally {
    process.off("exit", removeDir);
    removeDir();
  }
}

/** Streams `git ARGS` (run in `cwd`) to stdout; resolves with its exit code, stderr, and whether it printed anything. */
function streamGit(cwd: string, args: string[], env: NodeJS.ProcessEnv, ctx: CliContext): Promise<{ code: number | null; stderr: string; printed: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn("git", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let printed = false;
    child.stdout.on("data", (chunk: Buffer) => {
      printed = true;
      if (ctx.stdout.write(chunk)) return;
      child.stdout.pause(); // a slow reader: hold git back rather than buffer its output here
      ctx.stdout.once("drain", () => child.stdout.resume());
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stderr, printed }));
  });
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { stat: { kind: "bool" } });
  if (positionals.length !== 1) throw usageError("name one worker (W3 or a name)");
  try {
    const wt = (await worktreeTarget(ctx, positionals[0]!)).worktree;
    const color = (ctx.stdout as { isTTY?: boolean }).isTTY && !ctx.env.NO_COLOR ? "--color=always" : "--color=never";
    const args = ["diff", color, ...(flags.stat ? ["--stat"] : []), wt.baseCommit, ...worktreePathspec(await untouchedCopies(wt))];
    const r = await withUntrackedShown(wt, ctx, (env) => streamGit(wt.path, args, env, ctx));
    if (r.code !== 0) throw new Error(`git diff failed in ${wt.path}: ${r.stderr.trim()}`);
    if (!r.printed) writeLine(ctx.stderr, `no changes in ${wt.path} since ${wt.baseCommit.slice(0, 12)}`);
    return 0;
  } catch (err) {
    writeLine(ctx.stderr, `cpwd diff: ${(err as Error).message}`);
    return 1;
  }
};
