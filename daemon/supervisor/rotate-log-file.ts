// One copytruncate rotation of one log file, asynchronous and bounded. A live file over the limit
// is split from its end into pieces of at most `maxBytes`, each cut at a line start: the newest
// piece becomes `.1`, the one before it `.2`, and so on, up to `keep` files; older copies move up
// past the new pieces and those pushed beyond `.keep` are deleted. What does not fit in `keep`
// pieces (a worker printing at disk speed between two checks) is never copied — copying gigabytes
// would take the disk the limit is there to save — and the oldest piece then opens with a line
// saying how many bytes were dropped, counted within its `maxBytes`. Every rotated file is at most
// `maxBytes`. Copies go in small chunks, so the event loop is never held for long.
import { open, rename, rm, truncate, type FileHandle } from "node:fs/promises";

/** Bytes copied per read/write: each chunk is one trip through the thread pool. */
const CHUNK_BYTES = 256 * 1024;

/** How far from a cut the copy looks for a line start before cutting mid-line. */
const LINE_SEARCH_BYTES = 64 * 1024;

/** How many times the copy catches up with what the worker wrote meanwhile. */
const CATCH_UP_PASSES = 3;

/** The line that opens the oldest piece when the `bytes` before it were not kept. */
export function droppedLine(bytes: number): string {
  return `[cpwd: ${bytes} earlier bytes dropped: written faster than rotation could keep]\n`;
}

/** Bytes [start, end) of the live file. */
interface Span {
  start: number;
  end: number;
}

/** A rotated file being written (a temp name until the rotation is done). */
interface Piece {
  path: string;
  out: FileHandle;
  bytes: number;
}

/**
 * Where a piece that ends at `end` and may hold `budget` bytes starts: 0 when the rest of the file
 * fits; else the first line start at or after `end - budget` (looking LINE_SEARCH_BYTES ahead, and
 * leaving the piece at least one byte), else `end - budget` itself, mid-line.
 */
async function pieceStart(src: FileHandle, end: number, budget: number): Promise<number> {
  const from = end - budget;
  if (from <= 0) return 0;
  // A line starts at p when byte p - 1 is a newline: look at bytes from - 1 … end - 2.
  const buf = Buffer.allocUnsafe(Math.min(LINE_SEARCH_BYTES, end - from));
  const { bytesRead } = await src.read(buf, 0, buf.length, from - 1);
  const nl = buf.subarray(0, bytesRead).indexOf(10);
  return nl === -1 ? from : from + nl;
}

/**
 * Where a piece being filled forward should end, given it may not go past `limit` nor cut before
 * `lo`: the last line start in [lo, limit] (looking LINE_SEARCH_BYTES back), else `limit`.
 */
async function pieceEnd(src: FileHandle, lo: number, limit: number): Promise<number> {
  const from = Math.max(lo, limit - LINE_SEARCH_BYTES);
  if (limit <= from) return limit;
  // Bytes from - 1 … limit - 1: a newline at q makes q + 1 a line start in [from, limit].
  const buf = Buffer.allocUnsafe(limit - from + 1);
  const { bytesRead } = await src.read(buf, 0, buf.length, from - 1);
  const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
  return nl === -1 ? limit : from + nl;
}

/**
 * The pieces of the first `size` bytes, oldest first: cut from the end, at most `keep`, each at
 * most `maxBytes`. If the oldest one does not reach back to byte 0, it leaves room for the
 * dropped-bytes line (sized for the largest count possible, `size`).
 */
async function planPieces(src: FileHandle, size: number, maxBytes: number, keep: number): Promise<Span[]> {
  const spans: Span[] = [];
  for (let end = size; end > 0 && spans.length < keep; ) {
    let start = await pieceStart(src, end, maxBytes);
    // (A limit shorter than the dropped-bytes line, below the config's 1 KiB minimum, keeps one
    // byte of log after it: that file alone is over the limit.)
    if (start > 0 && spans.length === keep - 1) start = await pieceStart(src, end, Math.max(1, maxBytes - droppedLine(size).length));
    spans.push({ start, end });
    end = start;
  }
  return spans.reverse();
}

async function openPiece(path: string, header: string): Promise<Piece> {
  const out = await open(path, "w", 0o600);
  const piece: Piece = { path, out, bytes: 0 };
  try {
    await out.chmod(0o600); // a temp file left by an interrupted rotation keeps its mode otherwise
    if (header) piece.bytes += (await out.write(header)).bytesWritten;
  } catch (err) {
    await out.close();
    throw err;
  }
  return piece;
}

/** Appends bytes [start, end) of `src` to `piece`, chunk by chunk. */
async function copyInto(src: FileHandle, start: number, end: number, piece: Piece): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, end - start)));
  for (let pos = start; pos < end; ) {
    const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, end - pos), pos);
    if (bytesRead === 0) break; // truncated under us
    await piece.out.write(buf, 0, bytesRead);
    piece.bytes += bytesRead;
    pos += bytesRead;
  }
}

/**
 * Copies what the worker wrote during the copy, from `from` on, a few passes (each smaller than
 * the last at any sane rate), so what the truncate loses is only the last pass's window. It fills
 * the newest piece up to `maxBytes` (cut at a line start), then starts new ones while there are
 * fewer than `keep` (`newPiece` adds one to `pieces`); what fits nowhere is left to the truncate.
 */
async function catchUp(src: FileHandle, from: number, pieces: Piece[], maxBytes: number, keep: number, newPiece: () => Promise<unknown>): Promise<void> {
  let end = from;
  for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
    const now = (await src.stat()).size;
    if (now <= end) return;
    while (end < now) {
      const newest = pieces.at(-1)!;
      const limit = end + Math.max(0, maxBytes - newest.bytes);
      const cut = now <= limit ? now : await pieceEnd(src, end, limit);
      await copyInto(src, end, cut, newest);
      end = cut;
      if (end === now) break;
      if (pieces.length >= keep) return;
      await newPiece();
    }
  }
}

const ignoreMissing = (err: unknown) => {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
};

/**
 * Rotates `live` if it is over `maxBytes`: its content goes, in pieces of at most `maxBytes` cut at
 * line starts, to `live.1` (the newest) … `live.N` (N ≤ `keep`), older copies move up by N (those
 * past `keep` are deleted), and `live` is truncated. Bytes that do not fit in `keep` pieces are
 * dropped, and said so at the top of the oldest piece. Returns the size seen (0 when the file does
 * not exist).
 */
export async function rotateLog(live: string, maxBytes: number, keep: number): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(live, "r");
  } catch (err) {
    ignoreMissing(err);
    return 0;
  }
  const pieces: Piece[] = [];
  /** Opens the next piece (a newer one than all before it) and adds it to `pieces`. */
  const newPiece = async (header = "") => {
    const piece = await openPiece(`${live}.${pieces.length}.rotating`, header);
    pieces.push(piece);
    return piece;
  };
  let size: number;
  let done = false;
  try {
    size = (await src.stat()).size;
    if (size <= maxBytes) return size;
    for (const span of await planPieces(src, size, maxBytes, keep)) {
      await copyInto(src, span.start, span.end, await newPiece(pieces.length === 0 && span.start > 0 ? droppedLine(span.start) : ""));
    }
    await catchUp(src, size, pieces, maxBytes, keep, () => newPiece());
    done = true;
  } finally {
    await src.close();
    for (const p of pieces) await p.out.close();
    if (!done) await Promise.all(pieces.map((p) => rm(p.path, { force: true })));
  }
  // Whatever the worker wrote since the copy's end is lost here: the copytruncate trade.
  await truncate(live, 0);
  const n = pieces.length;
  for (let i = keep; i >= 1; i--) {
    if (i + n > keep) await rm(`${live}.${i}`, { force: true });
    else await rename(`${live}.${i}`, `${live}.${i + n}`).catch(ignoreMissing);
  }
  // pieces[0] is the oldest: it becomes `.n`; the newest becomes `.1`.
  for (const [k, p] of pieces.entries()) await rename(p.path, `${live}.${n - k}`);
  return size;
}
