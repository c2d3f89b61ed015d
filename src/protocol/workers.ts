// Worker data shared by the daemon, the CLI and the docs: states, the spawn spec, the restart
// policy and the view `worker.list` returns. Types plus the zod schemas of what crosses the wire.
import { z } from "zod";

export const WORKER_STATES = ["queued", "starting", "running", "stopping", "exited", "failed", "timed_out", "stopped", "backoff", "fatal"] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** States in which the worker's process may be alive. */
export const ACTIVE_STATES: ReadonlySet<WorkerState> = new Set(["starting", "running", "stopping"]);
/** States after which nothing happens unless a user acts. */
export const FINAL_STATES: ReadonlySet<WorkerState> = new Set(["exited", "failed", "timed_out", "stopped", "fatal"]);

export const RestartPolicySchema = z
  .object({
    /** never | on-failure (non-zero exit, a signal cpwd did not send, or a timeout) | always. */
    mode: z.enum(["never", "on-failure", "always"]).default("never"),
    /** More policy restarts than this within `windowMs` → fatal. @default 5 */
    maxRestarts: z.number().int().min(0).max(10_000).default(5),
    /** @default 10 min */
    windowMs: z.number().int().min(1_000).default(10 * 60_000),
    /** First backoff delay. @default 1 s */
    backoffBaseMs: z.number().int().min(0).default(1_000),
    /** Largest backoff delay. @default 60 s */
    backoffMaxMs: z.number().int().min(0).default(60_000),
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

/** What `worker.spawn` asks for. `env` is the caller's whole environment plus overrides. */
export const WorkerSpecSchema = z
  .object({
    argv: z.array(z.string().max(128 * 1024)).min(1).max(10_000),
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'")
      .refine((n) => !isReservedWorkerName(n), "'all' and ids like W7 are reserved: they already name targets")
      .optional(),
    cwd: z.string().min(1).refine((p) => p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p), "must be an absolute path"),
    env: z.record(z.string(), z.string()),
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
};
