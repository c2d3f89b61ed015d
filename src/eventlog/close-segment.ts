// Closing the live events.jsonl into segments/, the writer's part of a rotation: the two renames,
// and putting things back when one fails, so that the writer always ends with a handle on a whole
// live file, or knows for certain that it has none (and then fails appends until it can reopen).
// It also owns the rotation policy's types: when the live file is closed, and who is told.
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { segmentsDirOf } from "./segments.js";
import { fsyncDir } from "./snapshot-file.js";

/** The live file just closed by a rotation, renamed into `segments/` as it was. */
export interface ClosedSegment {
  file: string;
  firstSeq: number;
  lastSeq: number;
}

/** When the live file is closed, and who is told. */
export interface RotationPolicy {
  /** Close the live file once a commit leaves it this large or larger. */
  maxBytes: number;
  /**
   * Called synchronously right after the rename, before any later event is written: what it reads
   * of the daemon's state is exactly the state at the segment's last seq.
   */
  onClosed(segment: ClosedSegment): void;
  /** Told each step as it is done (`renamed`: the live file is a segment, no new one yet); for fault tests. */
  onStep?: (step: string) => void;
  /**
   * Told when a rotation fails (segments/ not writable, a rename refused, `onClosed` throwing):
   * the live file goes on growing, and the rotation is tried again after `retryInMs`.
   */
  onError?: (err: unknown, info: RotationFailure) => void;
  /** The wait before the first retry after a failure, doubled after each. @default 1000 */
  retryMinMs?: number;
  /** The longest wait between retries. @default 300000 */
  retryMaxMs?: number;
}

/** A failed rotation, as `onError` is told of it. */
export interface RotationFailure {
  /** Failures in a row, this one included. */
  attempts: number;
  /** The next attempt waits at least this long (and for a commit). */
  retryInMs: number;
  /** Whether the live file was closed all the same (the failure came after the segment stood). */
  rotated: boolean;
}

/** What one attempt left behind. */
export interface CloseOutcome {
  /** The live file is now `segmentFile`, whole: the next event begins a new live file. */
  rotated: boolean;
  /** The handle to append with from now on; null when the live file could not be opened again. */
  fh: FileHandle | null;
  /** Why the attempt did not go as planned (whether or not it rotated), or null. */
  error: unknown;
}

/**
 * Renames the live `file` (open as `fh`, which is closed here) to `segmentFile` and puts a new
 * empty live file in its place; told `onStep("renamed")` between the two renames. Never throws: a
 * step that fails is undone where it can be, and the outcome says what stands.
 */
export async function closeLiveFile(file: string, fh: FileHandle, segmentFile: string, onStep?: (step: string) => void): Promise<CloseOutcome> {
  // The next live file is made first, under another name: if that fails, nothing has changed.
  const next = `${file}.next`;
  let nextFh: FileHandle;
  try {
    mkdirSync(segmentsDirOf(file), { recursive: true, mode: 0o700 });
    nextFh = await open(next, "w", 0o600);
  } catch (error) {
    return { rotated: false, fh, error };
  }
  // Closed before the rename: Windows does not rename a file that is open.
  await fh.close().catch(() => {});
  try {
    renameSync(file, segmentFile);
  } catch (error) {
    await discard(nextFh, next);
    return { rotated: false, fh: await reopen(file), error };
  }
  onStep?.("renamed");
  try {
    renameSync(next, file);
  } catch (error) {
    await discard(nextFh, next);
    try {
      // Put the live file back (the same folder and file system as the rename that just worked).
      renameSync(segmentFile, file);
    } catch {
      // It stays where it is, a whole segment under its right name: the rotation is done, and the
      // live file is made by the reopen (or, failing that, by the writer's next reopen).
      return { rotated: true, fh: await reopen(file), error };
    }
    return { rotated: false, fh: await reopen(file), error };
  }
  try {
    fsyncDir(segmentsDirOf(file));
    fsyncDir(dirname(file));
  } catch {
    // Best effort: a lost rename after a power cut leaves the file under either name, both read.
  }
  return { rotated: true, fh: nextFh, error: null };
}

/** The live file opened for appending (made when missing), or null when it cannot be. */
async function reopen(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, "a", 0o600);
  } catch {
    return null;
  }
}

/** Closes and removes the next live file that could not be put in place. */
async function discard(fh: FileHandle, file: string): Promise<void> {
  await fh.close().catch(() => {});
  try {
    rmSync(file, { force: true });
  } catch {
    // a stray .next is removed at the next start
  }
}
