// The runner interface: how the supervisor starts, signals and learns the end of a worker process,
// whatever runs it. The local process runner (local-runner.ts) is the default; a runner on a
// cluster engine could sit behind the same interface without the supervisor changing.

/** Everything needed to launch one worker. */
export interface LaunchSpec {
  workerId: string;
  /** Argument vector; argv[0] is the program. Never run through a shell. */
  argv: string[];
  cwd: string;
  /** The complete environment of the worker (the caller's env plus overrides, plus CPWD_WORKER_ID). */
  env: Record<string, string>;
  /** The worker's folder, `workers/W<N>/`; logs go to `<dir>/logs/`. */
  dir: string;
  /** Run-time limit in ms, enforced by the wrapper even when the daemon is down; null for none. */
  timeoutMs: number | null;
  /** Time between SIGTERM and SIGKILL when the wrapper enforces the deadline. */
  graceMs: number;
  /**
   * Which of the worker's launches this is (1 for the first): its record's `runs` once this
   * launch's `worker.starting` is in. The wrapper writes it into run.json, so a daemon that died
   * before recording the launch can tell, at restart, that run.json is from a launch its record lacks.
   */
  launch: number;
}

/** A running worker as the runner knows it. */
export interface WorkerHandle {
  workerId: string;
  /** The worker's own pid; it is also its process group id. */
  pid: number;
  /** The wrapper's pid (the worker's parent that outlives the daemon). */
  wrapperPid: number;
  /** Process start time as the OS reports it, to tell a reused pid from ours; null if unknown. */
  pidStartTime: string | null;
  /** The wrapper's start time, likewise. */
  wrapperStartTime: string | null;
  startedAtMs: number;
}

/** How a worker ended. Data, not an exception. */
export interface ExitStatus {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** Signal name (e.g. "SIGKILL"), or null. */
  signal: string | null;
  /** True when the wrapper's own deadline ended it. */
  timedOut: boolean;
  endedAtMs: number;
  /**
   * True when the wrapper died without recording the end (killed outright): the runner then
   * SIGKILLed the worker's group if the worker was still running and provably ours.
   */
  lost?: boolean;
}

/** What adopting a worker folder found after a daemon restart. */
export type AdoptResult =
  | { kind: "running"; handle: WorkerHandle }
  | { kind: "exited"; handle: WorkerHandle | null; exit: ExitStatus }
  /**
   * Neither a live wrapper nor an exit record: the wrapper was killed (e.g. kill -9). A worker still
   * running without it (its pid start time matching the recorded one) has had its group SIGKILLed.
   */
  | { kind: "lost"; handle: WorkerHandle | null };

export interface Runner {
  /** Starts the worker under its wrapper; resolves once the worker's pid is known. */
  launch(spec: LaunchSpec): Promise<WorkerHandle>;
  /**
   * Makes a new worker's folder ready for its first launch (its logs…) ahead of it, starting
   * nothing; the launch does whatever was not done. Never throws.
   */
  prepare?(dir: string): void;
  /**
   * Moves a new worker's folder, made ahead with what its first launch needs, to `dir` (which must
   * not exist yet); false if none was ready (the caller makes the folder). Never throws.
   */
  takeFolder?(dir: string): boolean;
  /** Sends a signal to the worker's whole process group. Never throws for a group already gone. */
  signal(handle: WorkerHandle, signal: NodeJS.Signals): void;
  /**
   * Calls `onExit` once when the worker has ended and its exit status is on disk, for launched and
   * adopted workers alike, without busy polling. Returns a function that stops watching.
   */
  watchExit(handle: WorkerHandle, dir: string, onExit: (exit: ExitStatus) => void): () => void;
  /**
   * Looks at a worker folder after a daemon restart: still running (pid verified against `known`,
   * the handle recorded when it started), ended, or lost.
   */
  adopt(workerId: string, dir: string, known: WorkerHandle | null): Promise<AdoptResult>;
  /** Stops all watchers and timers (daemon shutdown); leaves the workers running. */
  close(): void;
}
