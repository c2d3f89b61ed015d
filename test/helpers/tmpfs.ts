// A small file system that fills up, for the disk-full test and chaos scenario: a tmpfs mounted
// on a fresh folder (root only), a filler that writes until ENOSPC, and the unmount.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Mounts a tmpfs of `size` (as mount's `size=`, e.g. "8m") on a fresh folder; null when this user cannot (not root, not Linux). */
export function mountTmpfs(size: string): string | null {
  if (process.platform !== "linux") return null;
  const dir = mkdtempSync(join(tmpdir(), "cpwd-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) return dir;
  rmSync(dir, { recursive: true, force: true });
  return null;
}

/** Unmounts a mountTmpfs folder (lazily, so a process still inside does not stop it) and removes it. */
export function unmountTmpfs(dir: string): void {
  spawnSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
}

/** Writes zeros to `file` until the file system refuses with ENOSPC; any other error is thrown. */
export function fillDisk(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}
