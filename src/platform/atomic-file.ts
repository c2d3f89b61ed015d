// Whole-file writes that a reader never sees half done: a temp file beside the target, flushed,
// then renamed over it. Used for files other programs read while we write them (service units,
// Claude Code's settings). The event log has its own append path and does not use this.
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** The file's bytes, or undefined when it does not exist. Other errors propagate. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes `contents` to `path` atomically, creating its folder; `mode` applies to a new file. */
export async function writeAtomically(path: string, contents: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, "w", mode);
  try {
    await fh.writeFile(contents);
    // Without the flush a crash right after the rename can leave an empty file in its place.
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}
