// Follows a growing file without polling: fs.watch wakes it, and it reads from its last offset
// (at first, the one it is given) to the end. A file that shrank was rotated copytruncate-style:
// read again from the start.
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from "node:fs";

export class FileFollower {
  private watcher: FSWatcher | null = null;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly onText: (text: string) => void,
    /** Where reading starts: 0, or where the output of interest begins. */
    private offset = 0,
  ) {}

  /** Reads what is there now and starts watching. A missing file is watched for via its folder. */
  start(dir: string): void {
    this.drain();
    try {
      this.watcher = watch(dir, (_ev, name) => {
        if (!name || this.file.endsWith(`/${name}`)) this.drain();
      });
      this.watcher.on("error", () => {});
    } catch {
      // The folder is gone (worker removed): nothing more to follow.
    }
  }

  /** Reads from the offset to the current end. */
  drain(): void {
    if (this.closed) return;
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 16 * 1024 * 1024));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      if (n > 0) this.onText(buf.toString("utf8", 0, n));
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
  }
}
