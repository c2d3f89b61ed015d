// Size-based rotation of running workers' logs. The worker writes through its own O_APPEND file
// descriptors (the daemon never sits in the pipe), so rotation is copytruncate-style: copy the live
// file to `.1` (shifting older ones), then truncate it; the worker's next write lands at the new
// end. Bytes written between the copy and the truncate can be lost — the price of not piping
// output through the daemon, and the same trade logrotate's copytruncate makes.
import { copyFileSync, renameSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";

const STREAMS = ["stdout.log", "stderr.log"];
/** How often sizes are checked: a cheap stat per stream, and only for running workers. */
const CHECK_MS = 2_000;

export class LogRotator {
  private readonly dirs = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly keep: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(id: string, logDir: string): void {
    this.dirs.set(id, logDir);
    if (!this.timer) {
      this.timer = setInterval(() => this.checkAll(), CHECK_MS);
      this.timer.unref();
    }
  }

  remove(id: string): void {
    const dir = this.dirs.get(id);
    if (dir) this.check(dir);
    this.dirs.delete(id);
    if (this.dirs.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  checkAll(): void {
    for (const dir of this.dirs.values()) this.check(dir);
  }

  /** Rotates each stream of one folder that is over the limit. */
  check(dir: string): void {
    for (const name of STREAMS) {
      const live = join(dir, name);
      try {
        if (statSync(live).size <= this.maxBytes) continue;
        rmSync(`${live}.${this.keep}`, { force: true });
        for (let i = this.keep - 1; i >= 1; i--) {
          try {
            renameSync(`${live}.${i}`, `${live}.${i + 1}`);
          } catch {
            // that generation does not exist yet
          }
        }
        copyFileSync(live, `${live}.1`);
        truncateSync(live, 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.onError(err);
      }
    }
  }

  close(): void {
    this.stopTimer();
    this.dirs.clear();
  }
}
