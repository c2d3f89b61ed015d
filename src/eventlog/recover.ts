// Recovery at start: a daemon killed mid-write can leave a torn last line. Everything after the
// last good event line is cut, kept in a quarantine file beside the log, and the log truncated to
// its last good byte. Lines before it are never touched.
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

export interface RecoveryReport {
  /** Bytes cut from the end of the log (0 when it was intact). */
  truncatedBytes: number;
  /** Complete but unparseable lines among the cut bytes. */
  badLines: number;
}

/**
 * Moves bytes [goodEnd, size) of `file` to the end of `quarantine`, fsyncing the quarantine before
 * truncating the log, so a crash in between can duplicate the torn bytes but never lose them.
 */
export function cutTornTail(file: string, quarantine: string, goodEndBytes: number, sizeBytes: number, badLines: number): RecoveryReport {
  const truncatedBytes = sizeBytes - goodEndBytes;
  if (truncatedBytes <= 0) return { truncatedBytes: 0, badLines: 0 };
  const fd = openSync(file, "r+");
  try {
    const cut = Buffer.alloc(truncatedBytes);
    let off = 0;
    while (off < truncatedBytes) {
      const n = readSync(fd, cut, off, truncatedBytes - off, goodEndBytes + off);
      if (n === 0) break;
      off += n;
    }
    const q = openSync(quarantine, "a", 0o600);
    try {
      writeSync(q, cut.subarray(0, off));
      if (cut[off - 1] !== 10) writeSync(q, "\n");
      fsyncSync(q);
    } finally {
      closeSync(q);
    }
    ftruncateSync(fd, goodEndBytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { truncatedBytes, badLines };
}
