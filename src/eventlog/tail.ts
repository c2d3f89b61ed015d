// The end of events.jsonl, read backwards in chunks: the last N events a reader wants (`cpwd
// events -n 20`) without reading a long log from the top. A torn last line (a daemon killed
// mid-write, or one writing now) does not parse and is passed over, as every reader does.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { EventRecord } from "../protocol/events.js";
import { readRecord } from "./read.js";
import { parseEventLine } from "./record.js";
import { listRecordFiles } from "./segments.js";

const CHUNK_BYTES = 64 * 1024;

export interface Tail {
  /** The last `count` events that `wanted` takes, oldest first. */
  events: EventRecord[];
  /** The last seq in the file, wanted or not (0 for an empty or missing log). */
  lastSeq: number;
}

/**
 * Reads backwards from the end of `file` until `count` wanted events are found (or the top is
 * reached). Only lines whose seq is at most `upToSeq` count, when it is given. A missing file is
 * an empty log.
 */
export function readTail(file: string, count: number, wanted: (e: EventRecord) => boolean = () => true, upToSeq = Infinity): Tail {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { events: [], lastSeq: 0 };
    throw err;
  }
  const found: EventRecord[] = [];
  let lastSeq = 0;
  /** Takes one complete line; true once nothing more is needed. */
  const take = (line: Buffer): boolean => {
    const e = parseEventLine(line.toString("utf8"));
    if (e && e.seq <= upToSeq) {
      if (lastSeq === 0) lastSeq = e.seq;
      if (found.length < count && wanted(e)) found.push(e);
    }
    return lastSeq > 0 && found.length >= count;
  };
  try {
    let pos = fstatSync(fd).size;
    // The bytes before the earliest newline seen so far: a line whose start is not read yet.
    let rest = Buffer.alloc(0);
    let done = false;
    while (!done && pos > 0) {
      const size = Math.min(CHUNK_BYTES, pos);
      pos -= size;
      const chunk = Buffer.alloc(size);
      let got = 0;
      while (got < size) {
        const n = readSync(fd, chunk, got, size - got, pos + got);
        if (n === 0) throw new Error(`${file} shrank while it was read`);
        got += n;
      }
      const buf = Buffer.concat([chunk, rest]);
      let end = buf.length;
      for (let i = buf.length - 1; i >= 0 && !done; i--) {
        if (buf[i] !== 0x0a) continue;
        if (end > i + 1) done = take(buf.subarray(i + 1, end));
        end = i;
      }
      rest = Buffer.from(buf.subarray(0, end));
    }
    if (!done && rest.length > 0) take(rest);
  } finally {
    closeSync(fd);
  }
  return { events: found.reverse(), lastSeq };
}

/**
 * `readTail` over the whole record: when events.jsonl holds fewer than `count` wanted events (it
 * was rotated not long ago), the closed segments are read too, newest first — forward, as a
 * compressed file is, keeping only the last events wanted.
 */
export async function readRecordTail(file: string, count: number, wanted: (e: EventRecord) => boolean = () => true): Promise<Tail> {
  const live = readTail(file, count, wanted);
  const segments = listRecordFiles(file).segments;
  let lastSeq = live.lastSeq || (segments.at(-1)?.lastSeq ?? 0);
  let found = live.events;
  const before = found[0]?.seq ?? Infinity;
  for (const seg of [...segments].reverse()) {
    if (found.length >= count) break;
    const need = count - found.length;
    const ring: EventRecord[] = [];
    for await (const e of readRecord(file, { fromSeq: seg.firstSeq })) {
      if (e.seq > seg.lastSeq || e.seq >= before) break;
      if (!wanted(e)) continue;
      ring.push(e);
      if (ring.length > need) ring.shift();
    }
    found = [...ring, ...found];
    lastSeq ||= seg.lastSeq;
  }
  return { events: found, lastSeq };
}
