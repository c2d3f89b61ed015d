// The files of one worker's folder, `$CPWD_HOME/workers/W<N>/`: their names, and the readers and
// writers of its records. Every module that touches them (the supervisor, the runner, the wrapper
// script, `cpwd logs`) takes the names from here; the wrapper writes run.json and exit.json in the
// shell, with these names interpolated into its text.
import { closeSync, fchmodSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isPid, readJsonObject } from "./json-record.js";

/** The names of a worker folder's files, relative to the folder; plain words, pasted into the wrapper's shell text. */
export const WORKER_FILES = {
  /** The spec as spawned (argv, cwd, env…), written by the supervisor at queue time. */
  spec: "spec.json",
  /** `{pid, wrapperPid, timerPid, launch}`, written by the wrapper once the worker runs. */
  run: "run.json",
  /** `{code, signal, timedOut, endedAt}`, written by the wrapper when the worker ends. */
  exit: "exit.json",
  /** Present when the deadline fired (written by the wrapper's timer). */
  timedOut: "timed-out",
  /** A launch's parameters as a shell text, handed to a warm wrapper (daemon/runner/warm-wrappers.ts); removed once it has started the worker. */
  launchParams: "launch.sh",
  /** The wrapper's own stderr. */
  wrapperLog: "wrapper.log",
  /** The folder of the worker's output. */
  logs: "logs",
  stdout: "stdout.log",
  stderr: "stderr.log",
  /**
   * Both streams in the order written, each line stamped with its time (output-log.ts has the
   * format). Written by the wrapper's output mux, and created by it: absent when no mux ran.
   */
  output: "output.log",
  /** The FIFOs the worker writes into while the mux runs, and the one that tells the mux to end (removed when the worker ends). */
  stdoutPipe: "stdout.pipe",
  stderrPipe: "stderr.pipe",
  muxControl: "mux.pipe",
} as const;

/** The two streams a worker's output is kept in. */
export const WORKER_STREAMS = ["stdout", "stderr"] as const;

/** A worker's log folder. */
export function workerLogsDir(workerDir: string): string {
  return join(workerDir, WORKER_FILES.logs);
}

/** A worker's live log of one stream. */
export function workerLogFile(workerDir: string, stream: (typeof WORKER_STREAMS)[number]): string {
  return join(workerDir, WORKER_FILES.logs, WORKER_FILES[stream]);
}

/** A worker's combined, time-stamped log of both streams (present when the output mux ran). */
export function workerOutputFile(workerDir: string): string {
  return join(workerDir, WORKER_FILES.logs, WORKER_FILES.output);
}

/** Opens `file` for appending, creating it if needed, with mode 0600 whatever it had. */
export function openPrivateLog(file: string): number {
  const fd = openSync(file, "a", 0o600);
  try {
    fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Makes the log folder and both logs, private to the user, before a launch: the wrapper opens them
 * for the worker with the user's umask (which the worker must keep). chmod too: a log left by an
 * older cpwd may be 0644.
 */
export function prepareWorkerLogs(workerDir: string): void {
  mkdirSync(workerLogsDir(workerDir), { recursive: true, mode: 0o700 });
  for (const stream of WORKER_STREAMS) closeSync(openPrivateLog(workerLogFile(workerDir, stream)));
}

/** Removes a previous run's records: a restart reuses the folder, and must not be taken for it. */
export function clearRunRecords(workerDir: string): void {
  for (const name of [WORKER_FILES.exit, WORKER_FILES.run, WORKER_FILES.launchParams, WORKER_FILES.timedOut, WORKER_FILES.stdoutPipe, WORKER_FILES.stderrPipe, WORKER_FILES.muxControl]) rmSync(join(workerDir, name), { force: true });
}

/** run.json: the pids of a running worker, its wrapper and the wrapper's separate timer, and which launch it is. */
export interface RunRecord {
  /** The worker's pid, also its process group. */
  pid: number;
  wrapperPid: number;
  /** The separate timer's pid (TIMER proc, with a deadline); null otherwise. */
  timerPid: number | null;
  /**
   * Which of the worker's launches wrote it (1 for the first; the record's `runs` once its
   * `worker.starting` is in). Null in a run.json from a wrapper older than the field, which may
   * still be running after an upgrade.
   */
  launch: number | null;
  /** run.json's mtime: the wrapper, the worker and the timer all started before it was written. */
  writtenAtMs: number;
}

/** Reads run.json; null while it is absent or half-written, or when it is not a run record. */
export function readRunRecord(workerDir: string): RunRecord | null {
  const file = join(workerDir, WORKER_FILES.run);
  const raw = readJsonObject(file);
  // No timerPid in a run.json from a wrapper older than the separate timer (it may still be running).
  const timerPid = raw?.timerPid ?? null;
  // No launch in one older than the launch number.
  const launch = raw?.launch ?? null;
  if (raw === null || !isPid(raw.pid) || !isPid(raw.wrapperPid) || (timerPid !== null && !isPid(timerPid))) return null;
  if (launch !== null && !isLaunchNumber(launch)) return null;
  const writtenAtMs = mtimeMsOf(file);
  if (writtenAtMs === null) return null;
  return { pid: raw.pid, wrapperPid: raw.wrapperPid, timerPid, launch, writtenAtMs };
}

/** exit.json: how a worker ended, as its wrapper saw it. */
export interface ExitRecord {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** Signal name (e.g. "SIGKILL"), or null. */
  signal: string | null;
  /** True when the wrapper's deadline ended it. */
  timedOut: boolean;
  /** exit.json's mtime: ms precision, where the wrapper's own `endedAt` (`date +%s`) has seconds. */
  endedAtMs: number;
}

/** Reads exit.json; null while it is absent or half-written, or when it is not an exit record. */
export function readExitRecord(workerDir: string): ExitRecord | null {
  const file = join(workerDir, WORKER_FILES.exit);
  const raw = readJsonObject(file);
  if (raw === null) return null;
  const { code, signal, timedOut } = raw;
  const codeOk = code === null || (typeof code === "number" && Number.isInteger(code));
  if (!codeOk || !(signal === null || typeof signal === "string") || typeof timedOut !== "boolean") return null;
  const endedAtMs = mtimeMsOf(file);
  if (endedAtMs === null) return null;
  return { code, signal, timedOut, endedAtMs };
}

/** Writes spec.json, 0600 (the environment may hold secrets, so it is kept here, not in the event log). */
export function writeWorkerSpec(workerDir: string, record: { id: string; env: Record<string, string> }): void {
  writeFileSync(join(workerDir, WORKER_FILES.spec), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** The environment recorded in spec.json; empty when the file or its `env` is missing or malformed. */
export function readWorkerSpecEnv(workerDir: string): Record<string, string> {
  const env = readJsonObject(join(workerDir, WORKER_FILES.spec))?.env;
  if (typeof env !== "object" || env === null || Array.isArray(env)) return {};
  return Object.values(env).every((v) => typeof v === "string") ? (env as Record<string, string>) : {};
}

function isLaunchNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function mtimeMsOf(file: string): number | null {
  try {
    return Math.round(statSync(file).mtimeMs);
  } catch {
    return null;
  }
}
