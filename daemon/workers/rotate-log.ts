// One copytruncate rotation of one log file, asynchronous and bounded: only the last `maxBytes`
// bytes are copied (in small chunks, so the event loop is never held for long), whatever the size
// the file reached; then the live file is truncated and the old generations shifted.
import { open, rename, rm, truncate, type FileHandle } from "node:fs/promises";

/** Bytes copied per read/write: each chunk is one trip through the thread pool. */
const CHUNK_BYTES = 256 * 1024;

/** Copies bytes [start, end) of `src` into a new file `dest`, chunk by chunk. */
async function copyRange(src: FileHandle, start: number, end: number, dest: string): Promise<void> {
  const out = await open(dest, "w", 0o600);
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, end - start)));
    for (let pos = start; pos < end; ) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) break; // truncated under us
      await out.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
  } finally {
    await out.close();
  }
}

const ignoreMissing = (err: unknown) => {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
};

/**
 * Rotates `live` if it is over `maxBytes`: its last `maxBytes` bytes become `live.1` (older copies
 * move to `.2`…`.keep`, the oldest is dropped) and `live` is truncated. A file far over the limit
 * (a worker printing at disk speed) costs the same as one just over it: the rest is dropped, never
 * copied. Returns the size seen (0 when the file does not exist).
 */
export async function rotateLog(live: string, maxBytes: number, keep: number): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(live, "r");
  } catch (err) {
    ignoreMissing(err);
    return 0;
  }
  let size: number;
  const tmp = `${live}.rotating`;
  try {
    size = (await src.stat()).size;
    if (size <= maxBytes) return size;
    await copyRange(src, size - maxBytes, size, tmp);
  } finally {
    await src.close();
  }
  // Whatever the worker wrote since the copy's end is lost here: the copytruncate trade.
  await truncate(live, 0);
  await rm(`${live}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) await rename(`${live}.${i}`, `${live}.${i + 1}`).catch(ignoreMissing);
  await rename(tmp, `${live}.1`);
  return size;
}
