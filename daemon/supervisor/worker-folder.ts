// A new worker's folder, made at queue time: the folder and its log folder, and its spec.json,
// which keeps the environment (it may hold secrets) out of the event log; a rerun's new command.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { WORKER_FILES, workerLogsDir } from "../../src/records/worker-files.js";

/**
 * Makes a new worker's folder (private to the user) and writes its spec.json (0600), environment
 * included: the folder is one `take` moves into place when it can (the runner's, made ahead), else
 * made here. `prepare` may rewrite the spec first, knowing the id and folder; if it throws, the
 * folder is deleted again and the error passed on.
 */
export async function makeWorkerFolder(
  dir: string,
  id: string,
  requested: WorkerSpec,
  prepare?: (id: string, spec: WorkerSpec, dir: string) => Promise<WorkerSpec>,
  take?: (dir: string) => boolean,
): Promise<WorkerSpec> {
  if (!take?.(dir)) mkdirSync(workerLogsDir(dir), { recursive: true, mode: 0o700 });
  let spec = requested;
  if (prepare) {
    try {
      spec = await prepare(id, spec, dir);
    } catch (err) {
      // Refused before it was queued (no git repository for --worktree): nothing of it stays.
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  writeFileSync(join(dir, WORKER_FILES.spec), `${JSON.stringify({ id, ...spec })}\n`, { mode: 0o600 });
  return spec;
}

/**
 * Records a rerun's command (and meta) in spec.json beside the environment, which stays. A file
 * missing or unreadable is left as it is: the event log is the record, spec.json keeps the env.
 */
export function rewriteSpecCommand(dir: string, argv: string[], meta: Record<string, unknown>): void {
  const file = join(dir, WORKER_FILES.spec);
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return;
  }
  writeFileSync(file, `${JSON.stringify({ ...spec, argv, meta })}\n`, { mode: 0o600 });
}

/**
 * What a launch takes from spec.json, in one read: the environment the worker was spawned with
 * (none if the file is missing or unreadable), and the command of its current run (the record's may
 * have secret values redacted; null if missing or not an argv of strings).
 */
export function readSpecLaunch(dir: string): { env: Record<string, string>; argv: string[] | null } {
  let spec: { env?: Record<string, string>; argv?: unknown };
  try {
    spec = JSON.parse(readFileSync(join(dir, WORKER_FILES.spec), "utf8")) as typeof spec;
  } catch {
    return { env: {}, argv: null };
  }
  const argv = spec.argv;
  return { env: spec.env ?? {}, argv: Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === "string") ? argv : null };
}
