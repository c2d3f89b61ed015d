// The files of one worker's folder, `$CPWD_HOME/workers/W<N>/`: their names, in one place. Every
// module that reads or writes them (the supervisor, the runner, the wrapper script, `cpwd logs`)
// takes the names from here; the readers and writers of each record live beside them.
import { join } from "node:path";

/** The names of a worker folder's files, relative to the folder. */
export const WORKER_FILES = {
  /** The spec as spawned (argv, cwd, env…), written by the supervisor at queue time. */
  spec: "spec.json",
  /** `{pid, wrapperPid, timerPid}`, written by the wrapper once the worker runs. */
  run: "run.json",
  /** `{code, signal, timedOut, endedAt}`, written by the wrapper when the worker ends. */
  exit: "exit.json",
  /** Present when the deadline fired (written by the wrapper's timer). */
  timedOut: "timed-out",
  /** The wrapper's own stderr. */
  wrapperLog: "wrapper.log",
  /** The folder of the worker's output. */
  logs: "logs",
  stdout: "stdout.log",
  stderr: "stderr.log",
} as const;

/** A worker's log folder. */
export function workerLogsDir(workerDir: string): string {
  return join(workerDir, WORKER_FILES.logs);
}

/** A worker's live log of one stream. */
export function workerLogFile(workerDir: string, stream: "stdout" | "stderr"): string {
  return join(workerDir, WORKER_FILES.logs, WORKER_FILES[stream]);
}
