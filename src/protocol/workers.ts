// Worker data shared by the daemon, the CLI and the docs: states, the spawn spec, the restart
// policy and the view `worker.list` returns. Types plus the zod schemas of what crosses the wire.
import { isAbsolute } from "node:path";
import { z } from "zod";

export const WORKER_STATES = ["queued", "starting", "running", "stopping", "exited", "failed", "timed_out", "stopped", "backoff", "fatal"] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** States in which the worker's process may be alive. */
export const ACTIVE_STATES: ReadonlySet<WorkerState> = new Set(["starting", "running", "stopping"]);
/** States after which nothing happens unless a user acts. */
export const FINAL_STATES: ReadonlySet<WorkerState> = new Set(["exited", "failed", "timed_out", "stopped", "fatal"]);

/**
 * The longest backoff delay: a day. A delay is a timer, and Node fires a timer set past 2³¹−1 ms
 * (~24.8 days) after 1 ms, so a "practically never" delay would restart at once.
 */
export const MAX_BACKOFF_MS = 24 * 3600_000;

export const RestartPolicySchema = z
  .object({
    /** never | on-failure (non-zero exit, a signal cpwd did not send, or a timeout) | always. */
    mode: z.enum(["never", "on-failure", "always"]).default("never"),
    /** More policy restarts than this within `windowMs` → fatal. @default 5 */
    maxRestarts: z.number().int().min(0).max(10_000).default(5),
    /** @default 10 min */
    windowMs: z.number().int().min(1_000).default(10 * 60_000),
    /** First backoff delay, at most a day. @default 1 s */
    backoffBaseMs: z.number().int().min(0).max(MAX_BACKOFF_MS).default(1_000),
    /** Largest backoff delay, at most a day. @default 60 s */
    backoffMaxMs: z.number().int().min(0).max(MAX_BACKOFF_MS).default(60_000),
    /** A run at least this long counts as healthy and resets the backoff. @default 30 s */
    minUptimeMs: z.number().int().min(0).default(30_000),
  })
  .strict();
export type RestartPolicy = z.infer<typeof RestartPolicySchema>;

/**
 * True for names that read as a target of their own: `all` and worker ids (W7). A worker named so
 * would make `stop all` or `stop W7` ambiguous.
 */
export function isReservedWorkerName(name: string): boolean {
  return name === "all" || /^W\d+$/.test(name);
}

/** The longest worker name. */
export const MAX_WORKER_NAME_CHARS = 64;

/** Why `name` cannot name a worker, as a clause that follows it ("is empty"); null if it can. */
export function workerNameProblem(name: string): string | null {
  if (name === "") return "is empty";
  if (name.length > MAX_WORKER_NAME_CHARS) return `is longer than ${MAX_WORKER_NAME_CHARS} characters`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return "may hold only letters, digits, '.', '_' and '-'";
  if (isReservedWorkerName(name)) return "is reserved ('all' and ids like W7 already name targets)";
  return null;
}

/** Why `p` cannot name a file or folder for the daemon, as the second half of "field: why"; null if it can. */
function pathProblem(p: string): string | null {
  if (p === "") return "is empty";
  if (p.includes("\0")) return "contains a NUL byte";
  // This platform's rule, not a union of both: on POSIX `C:/x` is a relative path, and a worker
  // given it would only fail at launch.
  if (!isAbsolute(p)) return "must be an absolute path";
  return null;
}

/** An absolute path of this platform, without NUL bytes (the OS would refuse it only at use). */
export const AbsolutePathSchema = z.string().superRefine((p, ctx) => {
  const why = pathProblem(p);
  if (why !== null) ctx.addIssue({ code: "custom", message: why });
});

/** A string the OS can take as an argument or a variable's value: no NUL byte. */
const NulFree = z.string().refine((s) => !s.includes("\0"), "contains a NUL byte");

/**
 * Environment variables: names non-empty, without '=' or NUL (execve's `NAME=value` could not
 * hold them), values without NUL. Names are shown JSON-quoted so a control byte is visible.
 */
const EnvSchema = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const [k, v] of Object.entries(env)) {
    if (k === "") ctx.addIssue({ code: "custom", message: "a variable has an empty name" });
    else if (k.includes("\0")) ctx.addIssue({ code: "custom", message: `the name ${JSON.stringify(k)} contains a NUL byte` });
    else if (k.includes("=")) ctx.addIssue({ code: "custom", message: `the name ${JSON.stringify(k)} contains '='` });
    else if (v.includes("\0")) ctx.addIssue({ code: "custom", message: "contains a NUL byte", path: [k] });
  }
});

/** What `worker.spawn` asks for. `env` is the caller's whole environment plus overrides. */
export const WorkerSpecSchema = z
  .object({
    argv: z.array(NulFree.max(128 * 1024)).min(1).max(10_000),
    name: z
      .string()
      .superRefine((n, ctx) => {
        const why = workerNameProblem(n);
        if (why !== null) ctx.addIssue({ code: "custom", message: why });
      })
      .optional(),
    /** Absolute; that it is an existing folder is checked by the daemon before the worker is queued. */
    cwd: AbsolutePathSchema,
    env: EnvSchema,
    timeoutMs: z.number().int().positive().nullable().default(null),
    graceMs: z.number().int().min(0).max(24 * 3600_000).optional(),
    restart: RestartPolicySchema.default({ mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 }),
    /** Free-form facts other areas read (e.g. `{kind: "claude", parentSession, worktree}`). */
    meta: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type WorkerSpec = z.infer<typeof WorkerSpecSchema>;

/** One row of `cpwd status`. (A type, not an interface, so it fits Record<string, unknown>.) */
export type WorkerView = {
  id: string;
  name: string | null;
  state: WorkerState;
  pid: number | null;
  command: string[];
  cwd: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Run time of the current or last run. */
  runMs: number | null;
  restarts: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Why it is in its state when that needs saying (fatal, lost, launch error). */
  reason: string | null;
  nextStartAt: string | null;
  meta: Record<string, unknown>;
  claude?: Record<string, unknown> | null;
  /** CPU and memory of its process tree, in `status` and `worker.get`: null when it does not run or cannot be measured. */
  usage?: ProcessUsage | null;
};

/** What a running worker's whole process tree costs, as the daemon measured it when asked. */
export type ProcessUsage = {
  /** % of one core since the daemon's previous reading (1 to 60 s back), else since the run began. */
  cpuPercent: number | null;
  rssBytes: number;
  processes: number;
};
