// `cpwd claude [options] "PROMPT"`: a worker running `claude -p PROMPT --output-format stream-json
// --verbose …`, whose progress (session, turns, cost, result) the daemon reads from its output.
// Called from inside Claude Code, the calling session is recorded as the worker's parent.
// `--resume W3` / `--fork W3` continue W3's session (claude-follow-up.ts); `--max-cost` limits a run.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { loadConfig, type Config } from "../../src/platform/config.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { isUsageError, parseArgs, usageError } from "../args.js";
import { claudePassThrough, permissionModeFor } from "../claude-args.js";
import { budgetOptions, carriedOptions, followUpOf, forkPlacement, parseMaxCost, promptMeta, sessionSource, type FollowUp } from "../claude-follow-up.js";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLAUDE_PERMISSION_MODES, type ClaudePermissionMode } from "../../src/protocol/claude-permissions.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, withDaemon } from "../daemon-client.js";
import { CLAUDE_USAGE as USAGE } from "../usage.js";
import { SPAWN_FLAGS, spawnParams } from "./worker-spawn.js";

/** What `worker.spawn` takes. */
type SpawnParams = ReturnType<typeof spawnParams>;

/** The claude binary: CPWD_CLAUDE_BIN, else config.json's claudeBin (whose default is `claude`, on PATH). */
function claudeBin(ctx: CliContext, config: Config): string {
  return ctx.env.CPWD_CLAUDE_BIN || config.claudeBin;
}

/**
 * The absolute path `bin` runs as for the worker: a path is taken relative to where the CLI was
 * called (where the user typed it), a bare name is looked up in the worker's own PATH (the
 * CLI's, or `--env PATH=…`). Found here and passed on as an absolute path, because a worker whose
 * command is missing would otherwise only fail later, as a bare exit 127, and its cwd (`--cwd`, a
 * worktree) is not the CLI's. Null when not found. On Windows the name is passed as given
 * (PATHEXT makes the lookup the shell's business).
 */
function locateExecutable(bin: string, pathVar: string | undefined, ctx: CliContext): string | null {
  if (process.platform === "win32") return bin;
  const candidates = bin.includes("/") ? [resolve(ctx.cwd, bin)] : (pathVar ?? "").split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, bin));
  return (
    candidates.find((c) => {
      try {
        accessSync(c, constants.X_OK);
        return statSync(c).isFile();
      } catch {
        return false;
      }
    }) ?? null
  );
}

/** `--model M` and `--max-turns N`, when given, as Claude Code takes them. */
function modelOptions(flags: Record<string, unknown>): string[] {
  const extra: string[] = [];
  if (flags.model !== undefined) extra.push("--model", flags.model as string);
  if (flags["max-turns"] !== undefined) {
    const n = Number(flags["max-turns"]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--max-turns must be a whole number ≥ 1 (got ${String(flags["max-turns"])})`);
    extra.push("--max-turns", String(n));
  }
  return extra;
}

/** A follow-up (`--resume`, `--fork`), checked before the daemon is asked about the worker it names. */
interface FollowUpRequest {
  follow: FollowUp;
  flags: Record<string, unknown>;
  prompt: string;
  /** The options after `--`, checked. */
  passThrough: string[];
  maxCostUsd: number | undefined;
  /** `--permission-mode`, when given (checked); else W3's. */
  mode?: ClaudePermissionMode;
  config: Config;
}

/**
 * `--resume W3`: a new run of W3 (`worker.rerun`) with the same binary, in its folder or worktree;
 * `--fork W3`: a new worker (`worker.spawn`, `--fork-session`). Both resume the session the daemon
 * read from W3's stream and keep W3's Claude options unless given again.
 */
async function runFollowUp(client: RpcClient, req: FollowUpRequest, ctx: CliContext): Promise<number> {
  const { follow, flags, prompt } = req;
  try {
    const src = await sessionSource(client, follow);
    const earlier = src.meta.permissionMode as ClaudePermissionMode;
    const mode = req.mode ?? ((CLAUDE_PERMISSION_MODES as readonly string[]).includes(earlier) ? earlier : req.config.claudePermissionMode);
    const earlierCost = src.meta.maxCostUsd;
    const maxCostUsd = req.maxCostUsd ?? (typeof earlierCost === "number" && earlierCost > 0 ? earlierCost : undefined);
    const regiven = ["--model", "--max-turns"].filter((f) => flags[f.slice(2)] !== undefined);
    const session = follow.kind === "fork" ? ["--resume", src.sessionId, "--fork-session"] : ["--resume", src.sessionId];
    const options = [...carriedOptions(src.command, regiven), ...modelOptions(flags), ...session, "--permission-mode", mode, ...budgetOptions(maxCostUsd), ...req.passThrough];
    const argv = [src.command[0]!, "-p", prompt, ...options];
    const cost = maxCostUsd === undefined ? {} : { maxCostUsd };
    if (follow.kind === "resume") {
      const { maxCostUsd: _, ...kept } = src.meta;
      const { worker } = await client.call("worker.rerun", { target: src.id, argv, meta: { ...kept, prompt: promptMeta(prompt), permissionMode: mode, ...cost } });
      writeLine(ctx.stdout, String(worker.id));
      return 0;
    }
    const placed = forkPlacement(flags, src);
    const parent = ctx.env.CLAUDE_CODE_SESSION_ID;
    const meta = { kind: "claude", prompt: promptMeta(prompt), ...(parent ? { parentSession: parent } : {}), forkedFrom: src.id, permissionMode: mode, ...cost, ...(placed.worktree ? { worktreeFrom: true } : {}) };
    const { worker } = await client.call("worker.spawn", spawnParams(placed, argv, ctx, meta));
    writeLine(ctx.stdout, String(worker.id));
    return 0;
  } catch (err) {
    if (isUsageError(err)) {
      writeLine(ctx.stderr, `cpwd claude: ${err.message}\n${USAGE}`);
      return 2;
    }
    writeLine(ctx.stderr, `cpwd claude: ${(err as Error).message}`);
    return 1;
  }
}

/** What the command line asks for: a new worker's spawn params, or a follow-up of an earlier one. */
type ClaudePlan = { kind: "spawn"; params: SpawnParams } | { kind: "followUp"; req: FollowUpRequest };

/** Reads the options and config.json into a plan; throws on a usage error or an invalid config. */
function planClaude(argv: string[], ctx: CliContext): ClaudePlan {
  const { flags, positionals, rest } = parseArgs(argv, {
    ...SPAWN_FLAGS,
    worktree: { kind: "bool" },
    model: { kind: "string" },
    "max-turns": { kind: "string" },
    "permission-mode": { kind: "string" },
    resume: { kind: "string" },
    fork: { kind: "string" },
    "max-cost": { kind: "string" },
  });
  // Everything after `--` is Claude Code's (claudePassThrough); the prompt comes before it.
  if (positionals.length !== 1 || positionals[0]!.trim() === "") throw usageError('give exactly one PROMPT, quoted, before any -- (cpwd claude [options] "PROMPT" -- [claude options])');
  const prompt = positionals[0]!;
  const extra = modelOptions(flags);
  const maxCostUsd = parseMaxCost(flags["max-cost"]);
  const follow = followUpOf(flags);
  // The config is read as the daemon reads it: an invalid one throws INVALID_CONFIG.
  const config = loadConfig(cliPaths(ctx).config);
  const followUp: FollowUpRequest | undefined = follow ? { follow, flags, prompt, passThrough: claudePassThrough(rest), maxCostUsd, config } : undefined;
  const parent = ctx.env.CLAUDE_CODE_SESSION_ID;
  const meta: Record<string, unknown> = {
    kind: "claude",
    prompt: promptMeta(prompt),
    ...(parent ? { parentSession: parent } : {}),
    ...(flags.worktree ? { worktreeFrom: true } : {}),
  };
  // Built for a follow-up too: its checks (and the permission mode's) apply to both.
  const params = spawnParams(flags, [claudeBin(ctx, config), "-p", prompt, "--output-format", "stream-json", "--verbose", ...extra], ctx, meta);
  // Always explicit, and recorded: the mode decides whether the worker can do what it is asked.
  const mode = permissionModeFor(flags["permission-mode"], config.claudePermissionMode, params.env, process.getuid?.());
  params.argv.push("--permission-mode", mode, ...budgetOptions(maxCostUsd), ...claudePassThrough(rest));
  params.meta = { ...params.meta, permissionMode: mode, ...(maxCostUsd === undefined ? {} : { maxCostUsd }) };
  if (followUp && flags["permission-mode"] !== undefined) followUp.mode = mode;
  return followUp ? { kind: "followUp", req: followUp } : { kind: "spawn", params };
}

/** Says why the command line could not be planned; returns the exit code. */
function reportPlanError(err: unknown, ctx: CliContext): number {
  // A bad config.json is not a usage error: name the file and field, without the usage text.
  if (err instanceof CpwdError && err.code === ErrorCode.InvalidConfig) {
    writeLine(ctx.stderr, `cpwd claude: ${err.message}`);
    return 1;
  }
  writeLine(ctx.stderr, `cpwd claude: ${(err as Error).message}\n${USAGE}`);
  return 2;
}

/** A new worker: the binary is found first (see locateExecutable), then the daemon spawns it. */
async function spawnClaude(params: SpawnParams, ctx: CliContext): Promise<number> {
  const bin = params.argv[0]!;
  const found = locateExecutable(bin, params.env.PATH, ctx);
  if (found === null) {
    writeLine(ctx.stderr, `cpwd claude: ${bin} not found${bin.includes("/") ? "" : " on PATH"}; install Claude Code, or point CPWD_CLAUDE_BIN (or claudeBin in config.json) at it`);
    return 1;
  }
  params.argv[0] = found;
  return withDaemon(ctx, async (client) => {
    try {
      const { worker } = await client.call("worker.spawn", params);
      writeLine(ctx.stdout, String(worker.id));
      return 0;
    } catch (err) {
      writeLine(ctx.stderr, `cpwd claude: ${(err as Error).message}`);
      return 1;
    }
  });
}

export const run: Command = async (argv, ctx) => {
  let plan: ClaudePlan;
  try {
    plan = planClaude(argv, ctx);
  } catch (err) {
    return reportPlanError(err, ctx);
  }
  if (plan.kind === "followUp") {
    const req = plan.req;
    return withDaemon(ctx, (client) => runFollowUp(client, req, ctx));
  }
  return spawnClaude(plan.params, ctx);
};
