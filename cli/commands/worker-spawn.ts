// `cpwd spawn [options] -- COMMAND [ARGS…]`: queues a worker and prints its id at once. The
// command runs with this shell's environment plus `--env` overrides, never through a shell.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, type FlagSpec } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";
import { formatDuration, parseDuration, parseRange } from "../format/durations.js";
import { describeIssues, formatPath } from "../../src/protocol/schema-errors.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { ParamsOf } from "../../src/protocol/rpc-methods.js";
import { WorkerSpecSchema, workerNameProblem } from "../../src/protocol/workers.js";
import { SPAWN_USAGE } from "../usage.js";

export const SPAWN_FLAGS: Record<string, FlagSpec> = {
  name: { kind: "string" },
  cwd: { kind: "string" },
  env: { kind: "list" },
  timeout: { kind: "string" },
  restart: { kind: "string" },
  "max-restarts": { kind: "string" },
  "restart-window": { kind: "string" },
  "min-uptime": { kind: "string" },
  backoff: { kind: "string" },
  grace: { kind: "string" },
  json: { kind: "bool" },
};

/**
 * The worker's folder: `--cwd` taken from where the CLI was called (default: that folder), which
 * must be an existing folder. An empty `--cwd` is refused rather than read as ".".
 */
function workerCwd(flag: unknown, ctx: CliContext): string {
  if (flag === undefined) return resolve(ctx.cwd);
  if (flag === "") throw new CpwdError(ErrorCode.InvalidArgument, "--cwd is empty");
  const cwd = resolve(ctx.cwd, flag as string);
  let isDir: boolean;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CpwdError(ErrorCode.InvalidArgument, code === "ENOENT" || code === "ENOTDIR" ? `--cwd ${cwd} does not exist` : `--cwd ${cwd} cannot be used (${code})`);
  }
  if (!isDir) throw new CpwdError(ErrorCode.InvalidArgument, `--cwd ${cwd} is not a directory`);
  return cwd;
}

/** The option each bounded field of the spec comes from; `ms`: a duration, said as one. */
const FIELD_FLAGS: Record<string, { flag: string; ms: boolean }> = {
  timeoutMs: { flag: "timeout", ms: true },
  graceMs: { flag: "grace", ms: true },
  "restart.maxRestarts": { flag: "max-restarts", ms: false },
  "restart.windowMs": { flag: "restart-window", ms: true },
  "restart.backoffBaseMs": { flag: "backoff", ms: true },
  "restart.backoffMaxMs": { flag: "backoff", ms: true },
  "restart.minUptimeMs": { flag: "min-uptime", ms: true },
};

/**
 * Refuses, as a usage error naming the option, what the daemon's schema would refuse with a
 * validator's words (`--grace 2d`: "graceMs: Too big: expected number to be <=86400000").
 */
function checkSpec(params: ParamsOf<"worker.spawn">, flags: Record<string, unknown>): void {
  const r = WorkerSpecSchema.safeParse(params, { reportInput: true });
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const field = FIELD_FLAGS[issue.path.join(".")];
  if (field && (issue.code === "too_big" || issue.code === "too_small")) {
    const limit = Number(issue.code === "too_big" ? issue.maximum : issue.minimum);
    const shown = field.ms ? formatDuration(limit) : String(limit);
    const bound = issue.code === "too_big" ? `at most ${shown}` : issue.inclusive === false ? `more than ${shown}` : `at least ${shown}`;
    throw new CpwdError(ErrorCode.InvalidArgument, `--${field.flag}: '${String(flags[field.flag])}' is out of range (${bound})`);
  }
  const [problem] = describeIssues([issue]);
  throw new CpwdError(ErrorCode.InvalidArgument, `${formatPath(problem!.path)}: ${problem!.message}`);
}

/** Builds the `worker.spawn` params from parsed flags and the command vector. */
export function spawnParams(flags: Record<string, unknown>, argv: string[], ctx: CliContext, meta: Record<string, unknown> = {}): ParamsOf<"worker.spawn"> {
  if (argv.length === 0) throw new CpwdError(ErrorCode.InvalidArgument, "no command given (put it after --)");
  const nameProblem = typeof flags.name === "string" ? workerNameProblem(flags.name) : null;
  if (nameProblem !== null) throw new CpwdError(ErrorCode.InvalidArgument, `--name ${flags.name === "" ? "" : `'${String(flags.name)}' `}${nameProblem}`);
  const env: Record<string, string> = {};
  // Names with '=' cannot be passed on (the daemon refuses them). Windows lists each drive's
  // current folder as such a variable (`=C:`); it means nothing to a worker.
  for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined && k !== "" && !k.includes("=")) env[k] = v;
  for (const kv of (flags.env as string[] | undefined) ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new CpwdError(ErrorCode.InvalidArgument, `--env: '${kv}' is not KEY=VALUE`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const mode = (flags.restart as string | undefined) ?? "never";
  if (!["never", "on-failure", "always"].includes(mode)) throw new CpwdError(ErrorCode.InvalidArgument, `--restart: '${mode}' is not never, on-failure or always`);
  const maxRestarts = flags["max-restarts"] === undefined ? 5 : Number(flags["max-restarts"]);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new CpwdError(ErrorCode.InvalidArgument, `--max-restarts: '${String(flags["max-restarts"])}' is not a whole number ≥ 0`);
  const backoff = flags.backoff === undefined ? { baseMs: 1_000, maxMs: 60_000 } : parseRange("backoff", flags.backoff as string);
  const params: ParamsOf<"worker.spawn"> = {
    argv,
    ...(flags.name !== undefined ? { name: flags.name as string } : {}),
    cwd: workerCwd(flags.cwd, ctx),
    env,
    timeoutMs: flags.timeout === undefined ? null : parseDuration("timeout", flags.timeout as string),
    ...(flags.grace !== undefined ? { graceMs: parseDuration("grace", flags.grace as string) } : {}),
    restart: {
      mode: mode as "never" | "on-failure" | "always",
      maxRestarts,
      windowMs: flags["restart-window"] === undefined ? 600_000 : parseDuration("restart-window", flags["restart-window"] as string),
      backoffBaseMs: backoff.baseMs,
      backoffMaxMs: backoff.maxMs,
      minUptimeMs: flags["min-uptime"] === undefined ? 30_000 : parseDuration("min-uptime", flags["min-uptime"] as string),
    },
    meta,
  };
  checkSpec(params, flags);
  return params;
}

export const run: Command = async (argv, ctx) => {
  let params: ParamsOf<"worker.spawn">;
  let json = false;
  try {
    const parsed = parseArgs(argv, SPAWN_FLAGS);
    if (parsed.positionals.length > 0 && parsed.rest.length === 0) {
      throw new CpwdError(ErrorCode.InvalidArgument, `put the command after -- (got ${parsed.positionals[0]})`);
    }
    params = spawnParams(parsed.flags, [...parsed.positionals, ...parsed.rest], ctx);
    json = parsed.flags.json === true;
  } catch (err) {
    writeLine(ctx.stderr, `cpwd spawn: ${(err as Error).message}\n${SPAWN_USAGE}`);
    return 2;
  }
  return withDaemon(ctx, async (client) => {
    try {
      const { worker } = await client.call("worker.spawn", params);
      writeLine(ctx.stdout, json ? JSON.stringify(worker) : String(worker.id));
      return 0;
    } catch (err) {
      writeLine(ctx.stderr, `cpwd spawn: ${(err as Error).message}`);
      return 1;
    }
  });
};
