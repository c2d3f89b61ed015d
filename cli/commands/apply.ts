// `cpwd apply [FILE] [--prune] [--dry-run]`: makes the workers run as the declarative worker file
// (cpwd.json, or .cpwd.json in a project) lists them, pm2's ecosystem file: starts the missing
// ones, leaves unchanged ones, restarts changed ones and, with --prune, stops and removes those
// it started from this file that are no longer listed. One line per entry; exit 1 if any failed.
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";
import { findApplyFile, readApplyFile, type ApplyFile } from "../apply/apply-file.js";
import { carryOutAll, formatOutcomes } from "../apply/carry-out.js";
import { planApply } from "../apply/plan.js";
import { isCpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { WorkerView } from "../../src/protocol/workers.js";

export const run: Command = async (argv, ctx) => {
  const parsed = parseArgs(argv, { prune: { kind: "bool" }, "dry-run": { kind: "bool", short: "n" } });
  if (parsed.positionals.length > 1 || parsed.rest.length > 0) throw usageError("name one file at most");
  const prune = parsed.flags.prune === true;
  const dryRun = parsed.flags["dry-run"] === true;
  let file: ApplyFile;
  try {
    file = readApplyFile(findApplyFile(parsed.positionals[0], ctx.cwd), ctx.cwd);
  } catch (err) {
    if (!isCpwdError(err, ErrorCode.InvalidArgument, ErrorCode.InvalidConfig)) throw err;
    for (const line of err.message.split("\n")) writeLine(ctx.stderr, err.code === ErrorCode.InvalidConfig ? line : `cpwd apply: ${line}`);
    return 1;
  }
  return withDaemon(ctx, async (client) => {
    const workers = (await client.call("worker.list")).workers as WorkerView[];
    const steps = planApply(file.entries, workers, file.path, prune);
    const outcomes = await carryOutAll(steps, client, file, ctx.env, dryRun);
    for (const line of formatOutcomes(outcomes)) writeLine(ctx.stdout, line);
    if (outcomes.length === 0) writeLine(ctx.stdout, `${file.shown} lists no workers`);
    if (dryRun) writeLine(ctx.stdout, "(dry run: nothing was changed)");
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed > 0) writeLine(ctx.stderr, `cpwd apply: ${failed} of ${outcomes.length} failed`);
    return failed > 0 ? 1 : 0;
  });
};
