// Wrappers started ahead ("warm"): shells running the wrapper script in its `--warm` mode
// (wrapper-script.ts), each idle in a session of its own until a launch hands it its parameters.
// A launch then skips the two slowest steps of its path: Node's spawn of the shell (a fork of the
// whole daemon: 1.5 ms quiet, 6 ms and more on a loaded machine, the event loop blocked meanwhile)
// and the shell's start. The next warm one is started after the launch, off its path.
//
// The hand-over: the runner writes the launch's parameters as a shell text into the worker's
// folder (launch.sh, 0600: it holds the environment, as spec.json does, and stays until the
// worker's next launch), whole, and only then writes its path as one line on the wrapper's stdin;
// the wrapper reads the line, sources the file, and goes on as a wrapper started cold would (the
// same script text from there). A wrapper whose stdin ends (the daemon died or closes) exits
// having started nothing; it holds no folder of any worker's while idle (its cwd is /) and has
// only PATH in its environment.
//
// The worker still gets exactly its own environment, cwd and argv: the wrapper cds (-P, as a
// spawn's chdir), and the child it forks for the worker empties its environment (PATH, PWD and
// OLDPWD: all a shell started with PATH alone exports) and exports the launch's variables one by
// one (`cpwd_env`) before it execs setsid(1) and the command. The values go through the
// environment, never through arguments: a process's arguments are readable by every user in
// /proc/PID/cmdline, its environment only by its owner. PWD is what a cold start gives (the shell
// keeps an inherited PWD that names the cwd, else sets the physical path: coldPwd). What a shell
// cannot export goes cold instead (`launchText` returns null): a name that is not a shell
// identifier, an argv[0] starting with "-" (setsid would take it for an option, as it does cold),
// and NUL anywhere (a spawn refuses it: the cold path gives that error).
import { spawn, type ChildProcess } from "node:child_process";
import { realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, processStartTime } from "../../src/platform/proc.js";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { WORKER_FILES } from "../../src/records/worker-files.js";

/** One launch's parameters, as the wrapper's variables (wrapper-script.ts) name them. */
export interface WarmLaunch {
  dir: string;
  timeoutMs: number;
  graceMs: number;
  timer: "chld" | "proc";
  perl: string;
  mux: string;
  launch: number;
  setsid: string;
  cwd: string;
  env: Record<string, string>;
  argv: string[];
}

/** `s` as one word of sh, in single quotes: every byte but NUL stands for itself. */
function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** A name the shell can export. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The PWD a worker started cold gets (dash, spawned in `cwd` with `envPwd` inherited): the inherited
 * one when it names `cwd` (a symbolic link's spelling kept), else `cwd`'s physical path.
 */
export function coldPwd(cwd: string, envPwd: string | undefined): string {
  if (envPwd?.startsWith("/")) {
    try {
      const [a, b] = [statSync(envPwd), statSync(cwd)];
      if (a.dev === b.dev && a.ino === b.ino) return envPwd;
    } catch {
      // gone or unreadable: as one that does not name it
    }
  }
  return realpathSync(cwd);
}

/**
 * The shell text that sets a launch's parameters for a warm wrapper, ending in `ready=1` (the
 * wrapper starts nothing without it): the wrapper's variables, `cpwd_env` (the worker's
 * environment, exported in the worker's own child only) and, as "$@", setsid and the command. Null
 * when the launch cannot go through it unchanged (see the top of this file) and must start cold.
 */
export function launchText(p: WarmLaunch): string | null {
  const argv0 = p.argv[0];
  if (argv0 === undefined || argv0.startsWith("-")) return null;
  const names = Object.keys(p.env);
  if (!names.every((n) => SHELL_NAME.test(n))) return null;
  const values = [...Object.values(p.env), ...p.argv, p.dir, p.cwd, p.perl, p.mux, p.setsid];
  if (values.some((v) => v.includes("\0"))) return null;
  let pwd: string;
  try {
    pwd = coldPwd(p.cwd, p.env.PWD);
  } catch {
    return null; // no such cwd: the cold path says so
  }
  const exports = names.filter((n) => n !== "PWD").map((n) => quote(`${n}=${p.env[n]}`));
  return [
    `dir=${quote(p.dir)}; timeout_ms=${p.timeoutMs}; grace_ms=${p.graceMs}; timer_kind=${p.timer}; perl=${quote(p.perl)}; mux=${quote(p.mux)}; launch=${p.launch}; setsid=${quote(p.setsid)}; cwd=${quote(p.cwd)}`,
    `cpwd_env() { unset PATH PWD OLDPWD; export ${[...exports, quote(`PWD=${pwd}`)].join(" ")}; }`,
    `set -- ${[p.setsid, ...p.argv].map(quote).join(" ")}`,
    "ready=1",
    "",
  ].join("\n");
}

/**
 * Reads the worker's pid, the first line the wrapper writes on its stdout; rejects if it exits
 * without one. Its exit is judged once its stdout has ended: Node may report the exit before the
 * last of the pipe is read, and a wrapper whose worker and mux end at once (a quick worker, a mux
 * that fails) can tell the pid and exit within a millisecond.
 */
export function readWorkerPid(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = "";
    const pid = (): number | null => {
      const nl = out.indexOf("\n");
      return nl === -1 ? null : Number(out.slice(0, nl));
    };
    child.once("error", (err) => reject(new CpwdError(ErrorCode.Io, `cannot start the wrapper: ${err.message}`, { cause: err })));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const told = pid();
      if (told !== null) resolve(told);
    });
    child.once("exit", (code) => {
      const judge = () => {
        const told = pid();
        if (told !== null) resolve(told);
        else reject(new CpwdError(ErrorCode.Io, `the wrapper exited (${code}) before starting the worker`));
      };
      const stdout = child.stdout!;
      if (stdout.readableEnded || stdout.destroyed) judge();
      else stdout.once("close", judge);
    });
  });
}

/** A warm wrapper, idle, and what is known of it. */
export interface WarmWrapper {
  child: ChildProcess;
  /** Its start time, read when it was started (off any launch's path). */
  startTime: string | null;
}

/**
 * The pool: `size` warm wrappers kept ready. `handOut` gives one a launch (null when none is ready: a burst,
 * or a wrapper that died idle); `refillSoon` starts the next after the launch's own work, not in it.
 */
export class WarmWrappers {
  private readonly idle: WarmWrapper[] = [];
  private refillQueued = false;
  private closed = false;

  constructor(
    private readonly shell: string,
    private readonly wrapper: string,
    private readonly size: number,
    private readonly onError?: (err: Error) => void,
  ) {
    this.fill();
  }

  /**
   * An idle warm wrapper, taken out of the pool and handed the launch (handLaunch); null if none
   * is ready or the hand-over fails (nothing was started: the caller starts it otherwise). Call
   * `refillSoon` once the launch has its pid.
   */
  handOut(dir: string, text: string): WarmWrapper | null {
    const w = this.idle.shift();
    return w !== undefined && handLaunch(w.child, dir, text) ? w : null;
  }

  /**
   * Starts the missing wrappers on a later turn of the event loop. Called once a launch has its
   * worker's pid: its record is written from a setImmediate queued in this turn (the event log's
   * group commit), and the spawn, which blocks the loop, must come after that, not before the pid.
   */
  refillSoon(): void {
    if (this.refillQueued || this.closed || this.idle.length >= this.size) return;
    this.refillQueued = true;
    setTimeout(() => {
      this.refillQueued = false;
      this.fill();
    }, 0).unref();
  }

  /** Starts warm wrappers until `size` are idle. */
  private fill(): void {
    while (!this.closed && this.idle.length < this.size) {
      let child: ChildProcess;
      try {
        child = spawnWrapper(this.shell, this.wrapper);
      } catch (err) {
        this.onError?.(err as Error);
        return;
      }
      const w: WarmWrapper = { child, startTime: null };
      // One that dies idle (killed by someone) leaves the pool; a write to it later would fail.
      const gone = () => {
        const i = this.idle.indexOf(w);
        if (i !== -1) this.idle.splice(i, 1);
      };
      child.once("exit", gone);
      child.once("error", (err) => {
        gone();
        this.onError?.(err);
      });
      if (child.pid === undefined) return;
      w.startTime = processStartTime(child.pid);
      this.idle.push(w);
    }
  }

  /** Ends every idle wrapper's stdin: each exits, having started nothing. */
  close(): void {
    this.closed = true;
    for (const w of this.idle.splice(0)) w.child.stdin?.end();
  }
}

/**
 * Spawns a wrapper in its `--warm` mode: in its own session, in /, with PATH alone; its pipes do
 * not keep the daemon alive (`handLaunch` makes stdout count again once a launch awaits its pid).
 */
function spawnWrapper(shell: string, wrapper: string): ChildProcess {
  const child = spawn(shell, [wrapper, "--warm"], { cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, detached: true, stdio: ["pipe", "pipe", "ignore"] });
  child.stdin!.on("error", () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  return child;
}

/**
 * Hands a wrapper in its `--warm` mode its launch: writes `text` into the worker's folder
 * (launch.sh, 0600), then its path on the wrapper's stdin, and ends the stdin. False if the wrapper
 * is gone or the file cannot be written (a full disk, say: the wrapper is let go, and exits).
 */
function handLaunch(child: ChildProcess, dir: string, text: string): boolean {
  // Dead but not yet reaped (its exit event not come): a launch handed to it would fail, not go cold.
  if (child.exitCode !== null || child.signalCode !== null || !child.stdin?.writable || !isAlive(child.pid!)) return false;
  const file = join(dir, WORKER_FILES.launchParams);
  try {
    writeFileSync(file, text, { mode: 0o600 });
  } catch {
    child.stdin.end();
    return false;
  }
  child.stdin.end(`${file}\n`);
  // Awaited now: its pid comes on stdout.
  (child.stdout as unknown as { ref?: () => void }).ref?.();
  return true;
}

/**
 * Starts a wrapper now and hands it its launch at once, as a warm one would be: a launch no warm
 * wrapper was ready for still gives its worker exactly its environment, and runs the wrapper's own
 * tools (mkfifo, date, mv) on the daemon's PATH, not the worker's. Null if the spawn or the hand-over
 * fails (the caller then spawns the wrapper in the worker's environment, the way that predates this).
 */
export function startHandedOver(shell: string, wrapper: string, dir: string, text: string): ChildProcess | null {
  const child = spawnWrapper(shell, wrapper);
  if (child.pid === undefined) return null;
  return handLaunch(child, dir, text) ? child : null;
}
