// One forward pass over events.jsonl: every good event with its byte offset, where the good
// region ends, and what follows it. Start-up replay, recovery and `cpwd replay` all use it.
import { closeSync, openSync, readSync } from "node:fs";
import type { EventRecord } from "../protocol/events.js";
import { parseEventLine } from "./record.js";

export interface ScanResult {
  /** File size when scanned. */
  sizeBytes: number;
  /** Byte offset just after the last good event line (its newline included). */
  goodEndBytes: number;
  lastSeq: number;
  eventCount: number;
  /** Unparseable complete lines before goodEnd (skipped, kept on disk). */
  badLinesKept: number;
  /** Complete lines after goodEnd that did not parse (part of the bad tail). */
  badLinesInTail: number;
}

/**
 * Streams the log in 1 MiB chunks, calling `onEvent` for each good line in order. A missing file
 * scans as empty. Synchronous on purpose: it runs once at start, before the daemon serves anyone.
 */
export function scanLog(file: string, onEvent?: (e: EventRecord, offset: number) => void): ScanResult {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return { sizeBytes: 0, goodEndBytes: 0, lastSeq: 0, eventCount: 0, badLinesKept: 0, badLinesInTail: 0 };
    }
    throw err;
  }
  const r: ScanResult = { sizeBytes: 0, goodEndBytes: 0, lastSeq: 0, eventCount: 0, badLinesKept: 0, badLinesInTail: 0 };
  let badSinceGood = 0;
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let carry = Buffer.alloc(0);
    let carryOffset = 0; // file offset of carry[0]
    let pos = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const bufOffset = carry.length > 0 ? carryOffset : pos;
      pos += n;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        const e = parseEventLine(buf.toString("utf8", start, nl));
        if (e) {
          onEvent?.(e, bufOffset + start);
          r.lastSeq = e.seq;
          r.eventCount++;
          r.goodEndBytes = bufOffset + nl + 1;
          r.badLinesKept += badSinceGood;
          badSinceGood = 0;
        } else if (nl > start) {
          badSinceGood++;
        }
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      carryOffset = bufOffset + start;
    }
    r.sizeBytes = pos;
    r.badLinesInTail = badSinceGood;
    return r;
  } finally {
    closeSync(fd);
  }
}
