// Configuration: `$CPWD_HOME/config.json`, validated, with defaults for every field. Loaded by the
// daemon and the CLI commands that need it; never by the hook shim (zod costs start-up time), which
// reads its three fields by hand (hooks/shim-settings.ts), kept in step by its test.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CpwdError, ErrorCode } from "../protocol/errors.js";
import { HOOK_BUDGET_MS } from "../protocol/hooks.js";
import { CLAUDE_PERMISSION_MODES, DEFAULT_CLAUDE_PERMISSION_MODE } from "../protocol/claude-permissions.js";
import { DEFAULT_SECRET_ENV_NAMES } from "../protocol/secret-mask.js";
import { describeIssues, formatPath } from "../protocol/schema-errors.js";

const MiB = 1024 * 1024;

/** config.json's fields, each with its default; an unknown field is refused (a typo, not a guess). */
export const ConfigSchema = z
  .object({
    /** Largest JSON-RPC message (one line) accepted; a larger one closes the connection. @default 1 MiB */
    maxMessageBytes: z.number().int().min(1024).default(MiB),
    /** Workers running at once; the rest wait queued, FIFO. @default 4 */
    maxParallel: z.number().int().min(1).max(1024).default(4),
    /** A worker log file is rotated past this size. @default 10 MiB */
    logMaxBytes: z.number().int().min(1024).default(10 * MiB),
    /**
     * events.jsonl is closed into segments/ (compressed, with a snapshot of the daemon's state)
     * once it holds this many bytes; start-up replays the newest snapshot and one live file. @default 64 MiB
     */
    eventLogMaxBytes: z.number().int().min(4096).default(64 * MiB),
    /**
     * Closed segments of events.jsonl that `cpwd gc` keeps, newest first (older ones and their
     * snapshots are removed; what start-up needs is always kept). @default 8
     */
    eventSegmentsKept: z.number().int().min(0).max(100_000).default(8),
    /**
     * Run the output mux (perl, when installed) beside each worker, so `cpwd logs` shows both streams
     * in the order written with each line's time (logs/output.log); false: the worker writes its
     * two logs itself, saving the mux's ~1.3 MiB and ~1 ms a launch. Read at the daemon's start. @default true
     */
    outputMux: z.boolean().default(true),
    /** Rotated log files kept per stream (stdout.log.1 … .N). @default 3 */
    logFiles: z.number().int().min(1).max(100).default(3),
    /** SIGTERM → SIGKILL grace for stops and timeouts when the spawn does not say; at most a day, as a spawn's. @default 10 s */
    defaultGraceMs: z.number().int().min(0).max(24 * 3600_000).default(10_000),
    /** How long a graceful `daemon.shutdown` waits for in-flight requests. @default 5 s */
    shutdownTimeoutMs: z.number().int().min(0).default(5_000),
    /** Hook shim's total time budget, always under the hook timeout the installer writes. @default 1 s */
    hookBudgetMs: z.number().int().min(HOOK_BUDGET_MS.min).max(HOOK_BUDGET_MS.max).default(HOOK_BUDGET_MS.default),
    /** Deny PreToolUse when the daemon cannot be reached (fail-closed), instead of allowing it. @default false */
    hookFailClosed: z.boolean().default(false),
    /**
     * The loopback port (127.0.0.1) of HTTP hooks (`POST /hook`, docs/hooks.md). null: chosen at the
     * first start and kept in `$CPWD_HOME/hook-http.json` with the token. @default null
     */
    hookHttpPort: z.number().int().min(1).max(65535).nullable().default(null),
    /** The shim starts the daemon (detached) when it cannot reach it. @default true */
    autostart: z.boolean().default(true),
    /** A file claim lapses after this long without the holder touching it. @default 30 min */
    claimTtlMs: z.number().int().min(1_000).default(30 * 60_000),
    /** A session's first digest lists workers that ended this recently. @default 1 h */
    digestRecentMs: z.number().int().min(0).default(60 * 60_000),
    /** The claude binary for `cpwd claude` (CPWD_CLAUDE_BIN overrides). @default "claude" */
    claudeBin: z.string().min(1).default("claude"),
    /**
     * USD all Claude workers may spend a day (local time); once today's spend reaches it, Claude
     * workers wait queued until midnight. null: no daily budget. @default null
     */
    claudeDailyBudgetUsd: z.number().positive().finite().nullable().default(null),
    /** `--permission-mode` of Claude workers started without one (docs/claude-workers.md). @default "acceptEdits" */
    claudePermissionMode: z.enum(CLAUDE_PERMISSION_MODES).default(DEFAULT_CLAUDE_PERMISSION_MODE),
    /**
     * Environment variable names whose values are secret (globs, `*` any run, case-insensitive):
     * their values (6 characters or more), the daemon's and every worker's, are replaced by
     * "[redacted]" in events.jsonl, status, RPC results and digests. Read at start. @default ["*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*"]
     */
    secretEnvNames: z.array(z.string().min(1).max(200)).max(200).default([...DEFAULT_SECRET_ENV_NAMES]),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

/** The defaults alone, as if config.json were absent. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/**
 * Reads and validates config.json. Absent → defaults. Present but unreadable or invalid → a
 * CpwdError naming the file and the field, so a typo never silently falls back to defaults.
 */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return defaultConfig();
    throw new CpwdError(ErrorCode.InvalidConfig, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CpwdError(ErrorCode.InvalidConfig, `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    // Said as `cpwd config set` says it ("maxParallel: must be ≥ 1 (got 0)"), not in zod's words.
    const [problem] = describeIssues(parsed.error.issues);
    const where = problem && problem.path.length > 0 ? formatPath(problem.path) : "(top level)";
    throw new CpwdError(ErrorCode.InvalidConfig, `${file}: ${where}: ${problem?.message ?? "invalid"}`);
  }
  return parsed.data;
}
