// Worker folders made ahead of spawns, so that a new worker's folder costs one rename on its way to
// running instead of a dozen file-system calls: its logs folder, both logs and wrapper.log (empty,
// 0600) and, with the output mux, the mux's three FIFOs (0600). Node cannot make a FIFO, and each
// of those calls is a metadata change that, on ext4, waits while the event log's fdatasync commits
// the journal: measured here, the folder and launch files took 1.3 ms and 1.5 ms of the daemon's
// thread on every spawn, the larger part of spawn → running (issue 11).
//
// `<home>/stock/`, filled `batch` folders at a time by one shell run in the background (mkdir,
// mkfifo: two execs per batch, the files by the shell's own redirections), when the stock is made
// (the daemon's start, not waited for: its first spawns make their own folders if they come
// first) and again once a quarter are left, when `later` says (the runner: once a launch has its
// pid, never inside a launch's own work). A spawn moves one folder to
// `workers/W<N>` (take); a relaunch takes only a folder's FIFOs (takeFifos). With none ready (a
// burst, a file system that refuses the rename, no sh), the caller makes its own, as before.
// Each folder is fresh, never reused: a process left from an earlier run holding one of its FIFOs
// could otherwise write into the next run's logs. Names carry this stock's tag: its process's pid,
// that process's start time and a random part, so two runners of one home (tests) never take each
// other's. A new stock removes the folders of every stock that is gone (a daemon killed outright):
// those whose pid is dead, or alive but started at another time (reused, after a reboot often by
// the new daemon itself), and those of this very process whose stock is not open (a stock that
// closes leaves its folders to the next, off the daemon's stop); and the FIFO
// sets an earlier cpwd kept in `<home>/fifos/`: by `rm -rf` in its first shell run, not on the
// daemon's start.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { isAlive, processStartTime } from "../../src/platform/proc.js";
import { WORKER_FILES } from "../../src/records/worker-files.js";

/** The mux's three FIFOs of one run, in the order the wrapper takes them. */
const RUN_FIFOS = [WORKER_FILES.stdoutPipe, WORKER_FILES.stderrPipe, WORKER_FILES.muxControl] as const;

/**
 * A process's start time as it stands in a stock's names (Linux: clock ticks since boot; macOS: ps's
 * date, its spaces and colons as _), or "unknown" where it cannot be read: then a live pid is
 * all there is to go on.
 */
export function startTimeTag(pid: number): string {
  return processStartTime(pid)?.replace(/\W+/g, "_") ?? "unknown";
}

/** Removes a file or folder if it is there; never throws (a stock is a help, not a need). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // not ours to clean: left
  }
}

/** `s` as one word of sh, in single quotes. */
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

export class FolderStock {
  /** The tags of the stocks open in this process: its own folders under any other tag are left over. */
  private static readonly open = new Set<string>();
  private readonly ready: string[] = [];
  private readonly tag = `${process.pid}-${startTimeTag(process.pid)}-${randomBytes(4).toString("hex")}`;
  private made = 0;
  private closed = false;
  private refillQueued = false;
  /** A fill failed once: the callers make their own folders from then on. */
  private broken = false;
  /** The refill running in the background, and the folders it makes. */
  private refilling: { child: ChildProcess; folders: string[] } | null = null;

  constructor(
    private readonly dir: string,
    /** Whether each folder gets the output mux's FIFOs. */
    private readonly fifos: boolean,
    private readonly batch = 64,
    /** When a refill runs: on the event loop's next turn by default; the runner's after its launch has its pid. */
    private readonly later: (fill: () => void) => void = (fill) => setImmediate(fill),
  ) {
    FolderStock.open.add(this.tag);
    this.fill(this.staleNames());
  }

  /**
   * What a new stock removes (names relative to its folder): the folders no live stock may take,
   * and an earlier cpwd's FIFO sets beside it (one daemon a home: none of those is in use).
   */
  private staleNames(): string[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      // no stock yet (a home new, or from before the stock: its fifos/ goes all the same)
    }
    const startTags = new Map<number, string | null>();
    return [...names.filter((name) => !FolderStock.mayBeTaken(name, startTags)), "../fifos"];
  }

  /**
   * Whether the folder `name` may still be taken by a live stock: its tag is that of a stock open in
   * this process, or names another process that is alive with the start time the tag records.
   * Anything else in the folder is left over. `startTags` caches each pid's start time (null: dead)
   * for one sweep.
   */
  private static mayBeTaken(name: string, startTags: Map<number, string | null>): boolean {
    const m = /^((\d+)-(\w+)-[0-9a-f]+)-\d+$/.exec(name);
    if (m === null) return false;
    const pid = Number(m[2]);
    if (pid === process.pid) return FolderStock.open.has(m[1]!);
    let startTag = startTags.get(pid);
    if (startTag === undefined) startTags.set(pid, (startTag = isAlive(pid) ? startTimeTag(pid) : null));
    return startTag === m[3];
  }

  /** How many folders are ready. */
  get size(): number {
    return this.ready.length;
  }

  /** The next ready folder, asking for a refill once a quarter are left; undefined if none is ready. */
  private next(): string | undefined {
    const folder = this.ready.shift();
    if (this.ready.length <= this.batch / 4 && !this.refillQueued && !this.closed) {
      this.refillQueued = true;
      this.later(() => {
        this.refillQueued = false;
        this.fill();
      });
    }
    return folder;
  }

  /**
   * Moves one folder to `workerDir`, which must not exist (its parent must). False if none was ready
   * or the move failed: nothing is left at `workerDir`, and the caller makes the folder itself.
   */
  take(workerDir: string): boolean {
    const folder = this.next();
    if (folder === undefined) return false;
    try {
      try {
        renameSync(folder, workerDir);
      } catch (err) {
        // The first worker of a home: its workers/ folder is made here, once.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        mkdirSync(dirname(workerDir), { recursive: true, mode: 0o700 });
        renameSync(folder, workerDir);
      }
      return true;
    } catch {
      // Not handed out again: a failed move may have left it half-way.
      removeQuietly(folder);
      return false;
    }
  }

  /**
   * Moves one folder's FIFOs into `workerDir` under the run's names (a relaunch: its folder exists);
   * the rest of that folder is removed when `later` runs. False if none was ready or a move failed.
   */
  takeFifos(workerDir: string): boolean {
    if (!this.fifos) return false;
    const folder = this.next();
    if (folder === undefined) return false;
    this.later(() => removeQuietly(folder));
    try {
      for (const name of RUN_FIFOS) renameSync(join(folder, name), join(workerDir, name));
      return true;
    } catch {
      // Whatever moved goes: the wrapper makes a whole set of its own.
      for (const name of RUN_FIFOS) removeQuietly(join(workerDir, name));
      return false;
    }
  }

  /**
   * The shell text that removes `stale` and makes the folders `names` in the stock: each with its
   * logs folder, its empty files and FIFOs. Names relative to the stock (a tag and a number:
   * nothing to quote), and template strings rather than path.join: see `fill`.
   * The two files a first launch writes on its way to the worker's pid are made empty here too:
   * launch.sh (the daemon writes the warm wrapper's parameters into it) and run.json (the wrapper
   * writes it before it tells the pid; an empty one reads as none). Each is then written in place
   * instead of created while the worker's `worker.queued` is being synced, whose journal commit
   * the creations joined: 60 spawns one at a time, request to `worker.started` written, p50 5.3–6.4
   * → 4.5–4.9 ms in three pairs of runs, timed inside the daemon at load ~1.
   */
  private script(stale: string[], names: string[]): string {
    const { logs, stdout, stderr, wrapperLog, run, launchParams } = WORKER_FILES;
    const dirs = names.map((n) => `${n} ${n}/${logs}`);
    const files = names.map((n) => `${n}/${logs}/${stdout} ${n}/${logs}/${stderr} ${n}/${wrapperLog} ${n}/${run} ${n}/${launchParams}`);
    const fifos = names.map((n) => RUN_FIFOS.map((name) => `${n}/${name}`).join(" "));
    // umask 077: folders 0700, files and FIFOs 0600. mkdir takes each folder before its logs folder.
    return [
      `umask 077`,
      `cd -- ${quote(this.dir)}`,
      // What cannot be removed is left, and does not stop the batch.
      ...(stale.length > 0 ? [`{ rm -rf -- ${stale.map(quote).join(" ")} || :; }`] : []),
      `mkdir -- ${dirs.join(" ")}`,
      ...(this.fifos ? [`mkfifo -- ${fifos.join(" ")}`] : []),
      `for f in ${files.join(" ")}; do : >"$f" || exit 1; done`,
    ].join(" && ");
  }

  /**
   * Makes one batch, removing `stale` first, in one shell run in the background (one at a time):
   * a fork and two or three execs, none on the event loop but the fork. Never throws; a failure
   * leaves the callers to make their own folders from then on.
   */
  private fill(stale: string[] = []): void {
    if (this.closed || this.broken || this.refilling) return;
    // Concatenated, not path.join: `dir` is already whole, and 64 joins at once ran Node's
    // normalizeString hot enough for TurboFan to compile it in an idle daemon, faulting ~3.5 MiB of
    // the compiler's code into its RSS for good (issue 11, idle RSS).
    const names = Array.from({ length: this.batch }, () => `${this.tag}-${++this.made}`);
    const folders = names.map((n) => `${this.dir}${sep}${n}`);
    const made = (ok: boolean) => {
      if (ok && !this.closed) return void this.ready.push(...folders);
      if (!ok) this.broken = true;
      this.discard(folders);
    };
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      // A group of its own: close() kills the shell and the mkdir or mkfifo it runs at that moment.
      const child = spawn("/bin/sh", ["-c", this.script(stale, names)], { stdio: "ignore", detached: true });
      child.unref();
      this.refilling = { child, folders };
      const done = (ok: boolean) => {
        if (this.refilling?.child !== child) return;
        this.refilling = null;
        made(ok);
      };
      child.once("error", () => done(false));
      child.once("exit", (code) => done(code === 0));
    } catch {
      made(false); // no folder: as a failed run
    }
  }

  /**
   * Stops (the runner closes): a refill still running is killed, with the command it runs. The
   * folders not handed out stay, for the next stock on this home to remove in its first shell run
   * (its tag then names no open stock): removing them here, some 500 unlinks, held a daemon's stop
   * up by 50–400 ms.
   */
  close(): void {
    this.closed = true;
    FolderStock.open.delete(this.tag);
    this.ready.length = 0;
    const pid = this.refilling?.child.pid;
    this.refilling = null;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }

  private discard(folders: string[]): void {
    for (const folder of folders) removeQuietly(folder);
  }
}
