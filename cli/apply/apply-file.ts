// The declarative worker file (`cpwd.json`, or `.cpwd.json` in a project): its schema, where it is
// found, and reading it into entries whose every problem names the entry and the field. Durations
// and ranges are written as on the command line ("30m", "1s..60s"); a relative cwd is relative to
// the file's folder.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { z } from "zod";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { RestartPolicySchema, WorkerSpecSchema, type RestartPolicy } from "../../src/protocol/workers.js";
import { parseDuration, parseRange } from "../format/durations.js";
import { describeIssues, formatPath, parseJsonText, type Problem } from "../../src/protocol/schema-errors.js";

/** The names `cpwd apply` looks for, in each folder from the current one up, when not given a file. */
export const APPLY_FILE_NAMES = ["cpwd.json", ".cpwd.json"] as const;

/** One worker of the file, normalised: what `worker.spawn` needs but the caller's environment. */
export interface ApplyEntry {
  /** Its place in the file (workers[index]), for messages. */
  index: number;
  name: string;
  argv: string[];
  /** Absolute. */
  cwd: string;
  /** The file's overrides only; the caller's environment is added at spawn. */
  env: Record<string, string>;
  timeoutMs: number | null;
  /** Absent: the daemon's defaultGraceMs. */
  graceMs: number | undefined;
  restart: RestartPolicy;
}

/** A file read and validated: its real path (what workers record) and its entries in file order. */
export interface ApplyFile {
  path: string;
  /** The path as messages show it: relative to where cpwd was called when below it. */
  shown: string;
  entries: ApplyEntry[];
}

/** A value written as on the command line ("30m", "1s..60s"); the flag name in the parser's message is dropped. */
function parsedText<T>(parse: (text: string) => T, example: string) {
  return z.string({ error: example }).transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^--\S+: /, "") });
      return z.NEVER;
    }
  });
}
const Duration = parsedText((text) => parseDuration("x", text), 'a duration such as "10s", "30m" or "2h"');
const BackoffRange = parsedText((text) => parseRange("x", text), 'a range such as "1s..60s"');

const defaults = RestartPolicySchema.parse({});

const RestartSchema = z
  .object({
    mode: RestartPolicySchema.shape.mode,
    maxRestarts: RestartPolicySchema.shape.maxRestarts,
    /** --restart-window */
    window: Duration.refine((ms) => ms >= 1_000, "must be at least 1s").optional(),
    /** --min-uptime */
    minUptime: Duration.optional(),
    /** --backoff BASE..MAX */
    backoff: BackoffRange.optional(),
  })
  .strict()
  .transform(
    (r): RestartPolicy => ({
      mode: r.mode,
      maxRestarts: r.maxRestarts,
      windowMs: r.window ?? defaults.windowMs,
      backoffBaseMs: r.backoff?.baseMs ?? defaults.backoffBaseMs,
      backoffMaxMs: r.backoff?.maxMs ?? defaults.backoffMaxMs,
      minUptimeMs: r.minUptime ?? defaults.minUptimeMs,
    }),
  );

/** The folder a worker runs in: absolute, or relative to the file's folder; it must exist. */
function cwdSchema(baseDir: string) {
  return z
    .string()
    .min(1)
    .optional()
    .transform((text, ctx) => {
      const cwd = resolve(baseDir, text ?? ".");
      let isDir = false;
      try {
        isDir = statSync(cwd).isDirectory();
      } catch {
        ctx.addIssue({ code: "custom", message: `${cwd} does not exist` });
        return z.NEVER;
      }
      if (!isDir) ctx.addIssue({ code: "custom", message: `${cwd} is not a directory` });
      return cwd;
    });
}

/** The file's schema, for a file in `baseDir`. Unknown fields are refused: a typo, not a guess. */
export function applyFileSchema(baseDir: string) {
  const Entry = z
    .object({
      name: WorkerSpecSchema.shape.name.unwrap(),
      /** The argument vector, never run through a shell. */
      command: z.array(z.string(), { error: 'a list of arguments such as ["npm", "test"] (never run through a shell)' }).pipe(WorkerSpecSchema.shape.argv),
      cwd: cwdSchema(baseDir),
      env: WorkerSpecSchema.shape.env.optional(),
      timeout: Duration.refine((ms) => ms > 0, "must be longer than 0 (null: none)").nullable().optional(),
      grace: Duration.refine((ms) => ms <= 24 * 3_600_000, "may be at most 24h").optional(),
      restart: RestartSchema.optional(),
    })
    .strict();
  return z.object({ workers: z.array(Entry) }).strict();
}

/**
 * Names used twice, as problems at the later entry's name. Read from the raw file, so they are
 * reported with the rest (zod skips a refinement once an entry has failed).
 */
function duplicateNames(raw: unknown): Problem[] {
  const workers = (raw as { workers?: unknown })?.workers;
  if (!Array.isArray(workers)) return [];
  const seen = new Map<string, number>();
  return workers.flatMap((w: unknown, i): Problem[] => {
    const name = (w as { name?: unknown } | null)?.name;
    if (typeof name !== "string") return [];
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    return first === undefined ? [] : [{ path: ["workers", i, "name"], message: `workers[${first}] has this name already; a name identifies one worker` }];
  });
}

/** The entry's label in messages: `workers[2] "api"` (the name as written, when it is a string). */
function entryLabel(raw: unknown, index: number): string {
  const name = (raw as { workers?: Array<{ name?: unknown }> })?.workers?.[index]?.name;
  return typeof name === "string" ? `workers[${index}] ${JSON.stringify(name)}` : `workers[${index}]`;
}

/** How a path is shown from `cwd`: relative when below it, else absolute. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * The file to apply: `given` (from `cwd`), else the first of cpwd.json or .cpwd.json in `cwd` or
 * a folder above it. Throws INVALID_ARGUMENT saying where it looked.
 */
export function findApplyFile(given: string | undefined, cwd: string): string {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new CpwdError(ErrorCode.InvalidArgument, `${given} does not exist`);
    return path;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of APPLY_FILE_NAMES) if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) break;
  }
  throw new CpwdError(ErrorCode.InvalidArgument, `no ${APPLY_FILE_NAMES.join(" or ")} in ${cwd} or a folder above it; name the file: cpwd apply FILE`);
}

/**
 * Reads and validates the file. Every problem is one line, `FILE: workers[2] "api": restart.mode:
 * expected one of never|on-failure|always`, or `FILE:3:5: not valid JSON: …`; all of them in one
 * INVALID_CONFIG error.
 */
export function readApplyFile(file: string, cwd: string): ApplyFile {
  const path = realpathSync(file);
  const shown = shownPath(file, cwd);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CpwdError(ErrorCode.InvalidConfig, `${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const json = parseJsonText(text);
  if (!json.ok) throw new CpwdError(ErrorCode.InvalidConfig, `${shown}:${json.line}:${json.column}: not valid JSON: ${json.message}`);
  const parsed = applyFileSchema(dirname(path)).safeParse(json.value, { reportInput: true });
  const problems = [...(parsed.success ? [] : describeIssues(parsed.error.issues)), ...duplicateNames(json.value)];
  if (!parsed.success || problems.length > 0) {
    // In file order: by entry, then as found.
    const entryOf = (p: Problem) => (p.path[0] === "workers" && typeof p.path[1] === "number" ? p.path[1] : -1);
    problems.sort((a, b) => entryOf(a) - entryOf(b));
    const lines = problems.map(({ path: p, message }) => {
      if (p[0] === "workers" && typeof p[1] === "number") {
        const rest = formatPath(p.slice(2));
        return `${shown}: ${entryLabel(json.value, p[1])}: ${rest === "" ? "" : `${rest}: `}${message}`;
      }
      return `${shown}: ${p.length === 0 ? "" : `${formatPath(p)}: `}${message}`;
    });
    throw new CpwdError(ErrorCode.InvalidConfig, lines.join("\n"));
  }
  const entries = parsed.data.workers.map(
    (w, index): ApplyEntry => ({
      index,
      name: w.name,
      argv: w.command,
      cwd: w.cwd,
      env: w.env ?? {},
      timeoutMs: w.timeout ?? null,
      graceMs: w.grace,
      restart: w.restart ?? defaults,
    }),
  );
  return { path, shown, entries };
}
