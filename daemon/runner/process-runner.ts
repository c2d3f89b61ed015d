// The local process runner: starts each worker under the shell wrapper (wrapper-script.ts), in a
// session of the wrapper's own so it outlives the daemon, and learns how workers end from the
// exit.json the wrapper writes — by fs.watch, never by polling, plus a slow liveness check that
// catches a wrapper killed before it could write anything.
import { spawn } from "node:child_process";
import { closeSync, existsSync, watch, type FSWatcher } from "node:fs";
import { basename, join } from "node:path";
import { isAlive, processStartedAtMs, processStartTime, startedNoLaterThan } from "../../src/platform/proc.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { clearRunRecords, openPrivateLog, prepareWorkerLogs, readExitRecord, readRunRecord, WORKER_FILES } from "../../src/records/worker-files.js";
import type { AdoptResult, ExitStatus, LaunchSpec, Runner, WorkerHandle } from "./runner.js";
import { findPerl, installOutputMux } from "./output-mux.js";
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

export class ProcessRunner implements Runner {
  private readonly wrapper: string;
  private readonly shell: { shell: string; timer: "chld" | "proc" };
  /** [perl, mux script], or ["-", "-"] when workers run without the output mux. */
  private readonly mux: [string, string];
  private readonly watches = new Set<() => void>();
  /** Liveness checks of every watched wrapper, run together by one timer. */
  private readonly checks = new Set<() => void>();
  private livenessTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ProcessRunnerOptions) {
    this.wrapper = installWrapper(opts.home);
    this.shell = chooseShell(opts.shell);
    const perl = opts.perl === undefined ? findPerl() : opts.perl;
    this.mux = perl ? [perl, installOutputMux(opts.home)] : ["-", "-"];
  }

  async launch(spec: LaunchSpec): Promise<WorkerHandle> {
    clearRunRecords(spec.dir);
    if (!existsSync(spec.cwd)) throw new CpwdError(ErrorCode.InvalidArgument, `working directory ${spec.cwd} does not exist`);
    prepareWorkerLogs(spec.dir);
    const wrapperLog = openPrivateLog(join(spec.dir, WORKER_FILES.wrapperLog));
    const args = [this.wrapper, spec.dir, String(spec.timeoutMs ?? 0), String(spec.graceMs), this.shell.timer, ...this.mux, String(spec.launch), "--", ...spec.argv];
    const child = spawn(this.shell.shell, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ["ignore", "pipe", wrapperLog],
    });
    closeSync(wrapperLog);
    const startedAtMs = Date.now();
    const pid = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.once("error", (err) => reject(new CpwdError(ErrorCode.Io, `cannot start the wrapper: ${err.message}`, { cause: err })));
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf("\n");
        if (nl !== -1) resolve(Number(out.slice(0, nl)));
      });
      child.once("exit", (code) => reject(new CpwdError(ErrorCode.Io, `the wrapper exited (${code}) before starting the worker`)));
    });
    child.stdout!.destroy();
    child.removeAllListeners("exit");
    // The wrapper is in its own session; nothing of ours keeps it, and its death is seen via exit.json.
    child.unref();
    return {
      workerId: spec.workerId,
      pid,
      wrapperPid: child.pid!,
      pidStartTime: processStartTime(pid),
      wrapperStartTime: processStartTime(child.pid!),
      startedAtMs,
    };
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
  }
}
