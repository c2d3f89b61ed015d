// One copytruncate rotation of one log file, asynchronous and bounded. The whole file is copied
// when it is up to twice the limit (the usual case: the rotator checks often enough to catch a
// file near the limit), so history is kept without gaps. A file further over (a worker printing at
// disk speed between two checks) keeps only its last `maxBytes`, from a line start, behind a line
// saying how much was dropped: copying gigabytes would take the disk the limit is there to save.
// Copies go in small chunks, so the event loop is never held for long.
import { open, rename, rm, truncate, type FileHandle } from "node:fs/promises";

/** Bytes copied per read/write: each chunk is one trip through the thread pool. */
const CHUNK_BYTES = 256 * 1024;

/** How far past the cut the copy looks for a line start before cutting mid-line. */
const LINE_SEARCH_BYTES = 64 * 1024;

/** The first line start at or after `from` (within LINE_SEARCH_BYTES), else `from` itself. */
async function lineStart(src: FileHandle, from: number, end: number): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(LINE_SEARCH_BYTES, end - from));
  const { bytesRead } = await src.read(buf, 0, buf.length, from - 1 >= 0 ? from - 1 : 0);
  const nl = buf.subarray(0, bytesRead).indexOf(10);
  return nl === -1 ? from : Math.min(end, from - 1 + nl + 1);
}

/** Copies bytes [start, end) of `src` into a new file `dest` (after `header`), chunk by chunk. */
async function copyRange(src: FileHandle, start: number, end: number, dest: string, header = "", append = false): Promise<void> {
  const out = await open(dest, append ? "a" : "w", 0o600);
  try {
    if (header) await out.write(header);
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
 * Rotates `live` if it is over `maxBytes`: it becomes `live.1` (older copies move to `.2`…`.keep`,
 * the oldest is dropped) and `live` is truncated. Up to 2 × `maxBytes` the whole file is kept; past
 * that only the last `maxBytes` (see the top of this file). Returns the size seen (0 when the file
 * does not exist).
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
    if (size <= 2 * maxBytes) await copyRange(src, 0, size, tmp);
    else {
      const from = await lineStart(src, size - maxBytes, size);
      await copyRange(src, from, size, tmp, `[cpwd: ${from} earlier bytes dropped: written faster than rotation could keep]\n`);
    }
    // Catch up with what the worker wrote during the copy (a few passes, each smaller than the
    // last at any sane rate), so what the truncate loses is only the last pass's window.
    for (let end = size, pass = 0; pass < 3; pass++) {
      const now = (await src.stat()).size;
      if (now <= end || now - end > maxBytes) break;
      await copyRange(src, end, now, tmp, "", true);
      end = now;
    }
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
