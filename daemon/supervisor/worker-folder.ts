// A new worker's folder, made at queue time: the folder and its log folder, and its spec.json,
// which keeps the environment (it may hold secrets) out of the event log; a rerun's new command.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { WORKER_FILES, workerLogsDir } from "../../src/records/worker-files.js";

/**
 * Makes a new worker's folder (private to the user) and writes its spec.json (0600), environment
 * included. `prepare` may rewrite the spec first, knowing the id and folder; if it throws, the
 * folder is deleted again and the error passed on.
 */
export async function makeWorkerFolder(
  dir: string,
  id: string,
  requested: WorkerSpec,
  prepare?: (id: string, spec: WorkerSpec, dir: string) => Promise<WorkerSpec>,
): Promise<WorkerSpec> {
  mkdirSync(workerLogsDir(dir), { recursive: true, mode: 0o700 });
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
 * The command of a worker's current run as spec.json holds it (the record's may have secret values
 * redacted); null if the file is missing, unreadable or holds no argv of strings.
 */
export function readSpecArgv(dir: string): string[] | null {
  try {
    const argv = (JSON.parse(readFileSync(join(dir, WORKER_FILES.spec), "utf8")) as { argv?: unknown }).argv;
    return Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === "string") ? argv : null;
  } catch {
    return null;
  }
}

/** The environment a worker was spawned with; none if its spec.json is missing or unreadable. */
export function readSpecEnv(dir: string): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(join(dir, WORKER_FILES.spec), "utf8")) as { env?: Record<string, string> }).env ?? {};
  } catch {
    return {};
  }
}
