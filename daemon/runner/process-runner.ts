// The local process runner: starts each worker under the shell wrapper (wrapper-script.ts), in a
// session of the wrapper's own so it outlives the daemon, and learns how workers end from the
// exit.json the wrapper writes — by fs.watch, never by polling, plus a slow liveness check that
// catches a wrapper killed before it could write anything.
//
// A start's path is kept short: the wrapper is told where setsid(1) is (found once here), and a new
// worker's folder, with its logs and the output mux's three FIFOs, comes from a stock this runner
// makes ahead, in batches, with one shell run per batch off any launch's path (folder-stock.ts,
// `takeFolder`: one rename at spawn); the wrapper execs nothing before it reports
// the worker's pid, and waits for nothing but its own forks (wrapper-script.ts). Most launches
// skip the spawn itself: a wrapper started ahead takes them (warm-wrappers.ts). With none ready, a
// wrapper is spawned and handed the launch the same way, so the worker's environment is exactly
// its own either way; only a launch no wrapper can be handed (a variable name a shell cannot
// export; no setsid(1)) spawns the wrapper in the worker's environment.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, watch, type FSWatcher } from "node:fs";
import { basename, delimiter, join } from "node:path";
import { isAlive, processStartedAtMs, processStartTime, startedNoLaterThan } from "../../src/platform/proc.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { clearRunRecords, openPrivateLog, prepareWorkerLogs, readExitRecord, readRunRecord, WORKER_FILES } from "../../src/records/worker-files.js";
import type { AdoptResult, ExitStatus, LaunchSpec, Runner, WorkerHandle } from "./runner.js";
import { findPerl, installOutputMux } from "./output-mux.js";
import { FolderStock } from "./folder-stock.js";
import { launchText, readWorkerPid, startHandedOver, WarmWrappers } from "./warm-wrappers.js";
import { installWrapper } from "./wrapper-script.js";

export interface ProcessRunnerOptions {
  /** CPWD_HOME: where the wrapper script is installed. */
  home: string;
  /** How often watched wrappers' pids are checked for a death without exit.json. @default 10000 */
  livenessCheckMs?: number;
  /** The shell that runs the wrapper. @default dash where it is installed, else /bin/sh */
  shell?: string;
  log?: { warn(obj: object, msg: string): void };
  /**
   * The perl that runs each worker's output mux (output-mux.ts), or null for none (the worker then
   * writes its two logs itself, and there is no output.log). @default the first on PATH with Time::HiRes
   */
  perl?: string | null;
  /** setsid(1) for the wrapper, or "-" to make the worker's group with perl instead. @default findSetsid() */
  setsid?: string;
  /**
   * How many wrappers are kept started ahead, idle (warm-wrappers.ts); 0 starts every wrapper cold.
   * None where setsid(1) or env(1) is missing. @default 1
   */
  warmWrappers?: number;
}

/**
 * Whether `pid` may be the process run.json names: it started no later than run.json was written.
 * True where start times cannot be read (no /proc): nothing better to go on.
 */
function startedBeforeRecord(pid: number, writtenAtMs: number): boolean {
  const startedAtMs = processStartedAtMs(pid);
  return startedAtMs === null || startedNoLaterThan(startedAtMs, writtenAtMs);
}

/** SIGKILLs process group `pgid`, or else the process itself. False if neither exists. */
function killGroup(pgid: number): boolean {
  for (const target of [-pgid, pgid]) {
    try {
      process.kill(target, "SIGKILL");
      return true;
    } catch {
      // no such group (setsid not reached): try the pid itself
    }
  }
  return false;
}

/**
 * A wrapper that died without writing exit.json leaves its worker running untracked (reparented to
 * init), its deadline timer and its output mux too. SIGKILLs the separate timer's session (TIMER
 * proc) named in run.json, and the wrapper's own group (the mux; TIMER chld: its `sleep`), whether
 * or not the worker is still there. Then the worker's group, but only if the pid is still the worker
 * we started: its start time must match the recorded one (an unknown start time proves nothing, so
 * it is not killed). Returns whether the worker's group was killed.
 */
export function killOrphan(handle: WorkerHandle, dir: string): boolean {
  const run = readRunRecord(dir);
  // The separate timer: only if it started before run.json was written (a reused pid did not). It
  // is never killed on an unknown start time: unlike the worker, it ends by itself.
  const timerStartedAtMs = run?.timerPid ? processStartedAtMs(run.timerPid) : null;
  if (run?.timerPid && timerStartedAtMs !== null && startedNoLaterThan(timerStartedAtMs, run.writtenAtMs)) killGroup(run.timerPid);
  // The wrapper led its own group. With its pid free (dead, or a zombie), whatever is left in that
  // group is the wrapper's (a group number is not handed out while the group lives): the output mux,
  // the deadline's sleep. It goes whether or not the worker is still there: a mux whose worker has
  // ended already would otherwise wait, idle, for ever. A pid alive again belongs to someone else,
  // whose group is left alone.
  if (!isAlive(handle.wrapperPid)) {
    try {
      process.kill(-handle.wrapperPid, "SIGKILL");
    } catch {
      // no group left
    }
  }
  if (handle.pidStartTime === null || processStartTime(handle.pid) !== handle.pidStartTime) return false;
  return killGroup(handle.pid);
}

/**
 * The wrapper's shell: dash where it is installed, with the CHLD-trap timer (one `sleep`, known
 * right only there); otherwise /bin/sh (bash on Fedora, Arch, RHEL, older macOS), with the separate
 * timer process, which `wait` never hears of. See wrapper-script.ts.
 */
function chooseShell(shell: string | undefined): { shell: string; timer: "chld" | "proc" } {
  const chosen = shell ?? ["/bin/dash", "/usr/bin/dash"].find((p) => existsSync(p)) ?? "/bin/sh";
  return { shell: chosen, timer: basename(chosen) === "dash" ? "chld" : "proc" };
}

/** setsid(1): the first on `pathEnv` or in the usual places; "-" where there is none (macOS: the wrapper uses perl). */
export function findSetsid(pathEnv = process.env.PATH ?? ""): string {
  const dirs = [...pathEnv.split(delimiter).filter((d) => d.startsWith("/")), "/usr/bin", "/bin", "/usr/local/bin"];
  return dirs.map((d) => join(d, "setsid")).find((f) => existsSync(f)) ?? "-";
}

export class ProcessRunner implements Runner {
  private readonly wrapper: string;
  private readonly shell: { shell: string; timer: "chld" | "proc" };
  /** [perl, mux script], or ["-", "-"] when workers run without the output mux. */
  private readonly mux: [string, string];
  /** setsid(1), or "-" (see findSetsid). */
  private readonly setsid: string;
  /** New workers' folders, made ahead; null where they cannot be (no /bin/sh: the folders are made one by one). */
  private readonly stock: FolderStock | null;
  private readonly watches = new Set<() => void>();
  /** Liveness checks of every watched wrapper, run together by one timer. */
  private readonly checks = new Set<() => void>();
  private livenessTimer: NodeJS.Timeout | undefined;
  /** Work kept off launches' paths (a stock's refill), run once a launch has its worker's pid. */
  private readonly afterLaunch: Array<() => void> = [];
  /** Folders made ready for their first launch (`takeFolder`, `prepare`), whose launch has not come yet. */
  private readonly prepared = new Set<string>();
  /** Wrappers started ahead; null for none. */
  private readonly warm: WarmWrappers | null;
  private warmLaunchCount = 0;

  /** How many launches a wrapper started ahead took (the others started cold). */
  get warmLaunches(): number {
    return this.warmLaunchCount;
  }

  constructor(private readonly opts: ProcessRunnerOptions) {
    this.wrapper = installWrapper(opts.home);
    this.shell = chooseShell(opts.shell);
    const perl = opts.perl === undefined ? findPerl() : opts.perl;
    this.mux = perl ? [perl, installOutputMux(opts.home)] : ["-", "-"];
    this.setsid = opts.setsid === undefined ? findSetsid() : opts.setsid;
    // Its refill's spawn of sh (a fork of the daemon, on the event loop) waits until a launch has its pid.
    this.stock = existsSync("/bin/sh") ? new FolderStock(join(opts.home, "stock"), this.mux[0] !== "-", 64, (job) => this.afterLaunch.push(job)) : null;
    const warm = opts.warmWrappers ?? 1;
    this.warm = warm > 0 && this.setsid !== "-" ? new WarmWrappers(this.shell.shell, this.wrapper, warm, (err) => opts.log?.warn({ err }, "cannot start a warm wrapper")) : null;
  }

  /** A new worker's folder, made ahead with its launch files, moved to `dir` (see Runner.takeFolder). */
  takeFolder(dir: string): boolean {
    if (!this.stock?.take(dir)) return false;
    this.prepared.add(dir);
    return true;
  }

  /** A new worker's folder made ready while its `worker.queued` is made durable (see Runner.prepare). */
  prepare(dir: string): void {
    if (this.prepared.has(dir)) return;
    try {
      clearRunRecords(dir);
      this.makeLaunchFiles(dir);
      this.prepared.add(dir);
    } catch {
      // Left to the launch, which reports what fails.
    }
  }

  /** A launch's files: both logs and wrapper.log made private, the mux's FIFOs moved in. */
  private makeLaunchFiles(dir: string): void {
    prepareWorkerLogs(dir);
    this.stock?.takeFifos(dir);
    closeSync(openPrivateLog(join(dir, WORKER_FILES.wrapperLog)));
  }

  async launch(spec: LaunchSpec): Promise<WorkerHandle> {
    const prepared = this.prepared.delete(spec.dir);
    // A first launch with no run.json has no earlier run's records (the wrapper writes run.json
    // before any other; a FIFO or launch.sh left is replaced or harmless): one stat, not seven unlinks.
    // (A stock folder's empty run.json, met after a restart, is cleared with the rest: harmless.)
    if (!prepared && (spec.launch > 1 || existsSync(join(spec.dir, WORKER_FILES.run)))) clearRunRecords(spec.dir);
    if (!existsSync(spec.cwd)) throw new CpwdError(ErrorCode.InvalidArgument, `working directory ${spec.cwd} does not exist`);
    if (!prepared) this.makeLaunchFiles(spec.dir);
    const text = this.setsid !== "-" ? launchText({ dir: spec.dir, timeoutMs: spec.timeoutMs ?? 0, graceMs: spec.graceMs, timer: this.shell.timer, perl: this.mux[0], mux: this.mux[1], launch: spec.launch, setsid: this.setsid, cwd: spec.cwd, env: spec.env, argv: spec.argv }) : null;
    const warm = text === null ? null : (this.warm?.handOut(spec.dir, text) ?? null);
    if (warm) this.warmLaunchCount++;
    const handedOver = warm?.child ?? (text === null ? null : startHandedOver(this.shell.shell, this.wrapper, spec.dir, text));
    const child = handedOver ?? this.startInWorkerEnv(spec);
    const startedAtMs = Date.now();
    try {
      const pid = await readWorkerPid(child);
      return {
        workerId: spec.workerId,
        pid,
        wrapperPid: child.pid!,
        pidStartTime: processStartTime(pid),
        wrapperStartTime: warm?.startTime ?? processStartTime(child.pid!),
        startedAtMs,
      };
    } finally {
      child.stdout!.destroy();
      child.removeAllListeners("exit");
      // The wrapper is in its own session; nothing of ours keeps it, and its death is seen via exit.json.
      child.unref();
      // launch.sh is left as it is (0600, the environment as spec.json holds it) until the next
      // launch clears and writes its own: unlinking it here held the event loop ~1.3 ms a spawn,
      // waiting on the file system's journal while the record's fdatasync committed it.
      this.warm?.refillSoon();
      // On a later turn, as the warm wrappers' refill: after the start's record is written.
      const jobs = this.afterLaunch.splice(0);
      if (jobs.length > 0) setTimeout(() => jobs.forEach((job) => job()), 0).unref();
    }
  }

  /**
   * Starts the wrapper with Node's spawn in the worker's cwd and environment: only for a launch a
   * wrapper cannot be handed (a variable name a shell cannot export, no setsid(1): macOS). Its shell
   * then drops such names, and its own variables (dir, out, IFS…) and tools meet the worker's.
   */
  private startInWorkerEnv(spec: LaunchSpec): ChildProcess {
    const wrapperLog = openPrivateLog(join(spec.dir, WORKER_FILES.wrapperLog));
    const args = [this.wrapper, spec.dir, String(spec.timeoutMs ?? 0), String(spec.graceMs), this.shell.timer, ...this.mux, String(spec.launch), this.setsid, "--", ...spec.argv];
    try {
      return spawn(this.shell.shell, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", wrapperLog] });
    } finally {
      closeSync(wrapperLog);
    }
  }

  signal(handle: WorkerHandle, signal: NodeJS.Signals): void {
    try {
      process.kill(-handle.pid, signal);
    } catch {
      // The group may not exist yet (setsid not reached) or any more: try the worker itself.
      try {
        process.kill(handle.pid, signal);
      } catch {
        // gone
      }
    }
  }

  watchExit(handle: WorkerHandle, dir: string, onExit: (exit: ExitStatus) => void): () => void {
    let done = false;
    let watcher: FSWatcher | null = null;
    const stop = () => {
      done = true;
      watcher?.close();
      this.watches.delete(stop);
      this.checks.delete(check);
      if (this.checks.size === 0) {
        clearInterval(this.livenessTimer);
        this.livenessTimer = undefined;
      }
    };
    const check = () => {
      if (done) return;
      const exit = readExitRecord(dir);
      if (exit) {
        stop();
        onExit(exit);
        return;
      }
      if (!isAlive(handle.wrapperPid)) {
        // The wrapper may have written exit.json between our read and its death: read once more.
        const late = readExitRecord(dir);
        stop();
        if (late) {
          onExit(late);
          return;
        }
        killOrphan(handle, dir);
        onExit({ code: null, signal: null, timedOut: false, endedAtMs: Date.now(), lost: true });
      }
    };
    try {
      watcher = watch(dir, (_event, name) => {
        if (name === WORKER_FILES.exit) check();
      });
      watcher.on("error", () => {});
    } catch {
      // The folder vanished: the liveness check below still settles it.
    }
    this.checks.add(check);
    if (!this.livenessTimer) {
      this.livenessTimer = setInterval(() => this.checks.forEach((c) => c()), this.opts.livenessCheckMs ?? 10_000);
      this.livenessTimer.unref();
    }
    this.watches.add(stop);
    // It may have ended before the watch was set up.
    setImmediate(check);
    return stop;
  }

  async adopt(workerId: string, dir: string, known: WorkerHandle | null): Promise<AdoptResult> {
    const run = readRunRecord(dir);
    const exit = readExitRecord(dir);
    const handle: WorkerHandle | null = run
      ? {
          workerId,
          pid: run.pid,
          wrapperPid: run.wrapperPid,
          pidStartTime: known?.pid === run.pid ? known.pidStartTime : null,
          wrapperStartTime: known?.wrapperPid === run.wrapperPid ? known.wrapperStartTime : null,
          startedAtMs: known?.startedAtMs ?? run.writtenAtMs,
        }
      : null;
    if (exit) return { kind: "exited", handle, exit };
    if (handle && isAlive(handle.wrapperPid)) {
      // The pid is alive, but is it still our wrapper? After a reboot or a long downtime the
      // number may belong to someone else: the start time must match what we recorded.
      const now = processStartTime(handle.wrapperPid);
      // With no start times recorded (the daemon died before `worker.started`), a pid is ours only
      // if its process started before run.json was written; then take today's start times, so
      // that the next adoption can tell a reused pid from ours.
      const ours = handle.wrapperStartTime === null ? startedBeforeRecord(handle.wrapperPid, run!.writtenAtMs) : now === handle.wrapperStartTime;
      if (ours) {
        const pidStartTime = handle.pidStartTime ?? (startedBeforeRecord(handle.pid, run!.writtenAtMs) ? processStartTime(handle.pid) : null);
        return { kind: "running", handle: { ...handle, wrapperStartTime: now, pidStartTime } };
      }
    }
    // A worker whose start times were never recorded (the daemon died before `worker.started`) is
    // still ours if it started before run.json was written: killed like one with a recorded time.
    if (handle) killOrphan(handle.pidStartTime === null && startedBeforeRecord(handle.pid, run!.writtenAtMs) ? { ...handle, pidStartTime: processStartTime(handle.pid) } : handle, dir);
    return { kind: "lost", handle };
  }

  close(): void {
    for (const stop of [...this.watches]) stop();
    this.stock?.close();
    this.warm?.close();
  }
}
