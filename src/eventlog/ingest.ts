// Taking the fallback log into events.jsonl, exactly once. The fallback file is never rewritten
// (a shim may be appending to it at any moment); instead the byte offset ingested so far is kept in
// a sidecar file, written atomically after the events are durable. A crash between the two
// re-reads some lines on the next start, and their `fid`s, already in the log, are skipped.
// The file is bounded by renaming it aside to a "draining" name (`rotateFallback`) and deleting
// that once it is read to its end (`removeDrained`); daemon/fallback-intake.ts says when.
import { appendFileSync, closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { EventInput } from "../protocol/events.js";
import { exceedsDepth, MAX_JSON_DEPTH } from "../protocol/json-bounds.js";
import { prepareEvent } from "./append.js";
import type { FallbackRecord } from "./fallback.js";

export interface IngestResult {
  count: number;
  skippedDuplicates: number;
  badLines: number;
  /** Lines that parse but cannot become events (nested too deep, too large): set aside whole. */
  quarantined: number;
  offsetBytes: number;
}

/** Reads the ingested offset; a missing or unreadable sidecar means 0 (fids dedupe the rest). */
export function readOffset(offsetFile: string): number {
  try {
    const n = Number(readFileSync(offsetFile, "utf8").trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

function writeOffset(offsetFile: string, offset: number): void {
  const tmp = `${offsetFile}.tmp`;
  writeFileSync(tmp, `${offset}\n`, { mode: 0o600 });
  renameSync(tmp, offsetFile);
}

function parseFallbackLine(line: string): FallbackRecord | null {
  try {
    const r = JSON.parse(line) as FallbackRecord;
    if (typeof r !== "object" || r === null || typeof r.fid !== "string" || typeof r.type !== "string") return null;
    if (typeof r.payload !== "object" || r.payload === null || Array.isArray(r.payload)) return null;
    return r;
  } catch {
    return null;
  }
}

/**
 * Ingests complete lines after the saved offset: events are appended (with `source: "fallback"`
 * and the record's `fid` in the payload as `fallbackId`) through `append`, which must resolve only
 * once they are durable; then the offset moves. `seen` holds fids already in the log.
 *
 * No line can stop the ingest (and so the daemon's start): one that is not a record is counted
 * and skipped; one whose payload fails its schema is kept as `fallback.rejected` with the reason;
 * one that cannot be an event at all (nested deeper than the bound, too large) is appended whole
 * to `quarantine` and recorded as `fallback.rejected` without its content.
 */
export async function ingestFallback(
  file: string,
  offsetFile: string,
  quarantine: string,
  seen: Set<string>,
  append: (inputs: EventInput[]) => Promise<unknown>,
  opts: { final?: boolean } = {},
): Promise<IngestResult> {
  const { text, offsetBytes } = readCompleteLines(file, readOffset(offsetFile), opts.final ?? false);
  const result: IngestResult = { count: 0, skippedDuplicates: 0, badLines: 0, quarantined: 0, offsetBytes };
  if (text === "") return result;
  const inputs: EventInput[] = [];
  const setAside: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const rec = parseFallbackLine(line);
    if (!rec) result.badLines++;
    else if (seen.has(rec.fid)) result.skippedDuplicates++;
    else {
      seen.add(rec.fid);
      const { input, quarantine: aside } = toEventInput(rec, line);
      if (aside) setAside.push(line);
      inputs.push(input);
    }
  }
  result.quarantined = setAside.length;
  result.count = inputs.length;
  try {
    // Set aside first: once the events saying so are durable, the lines must already be there.
    if (setAside.length > 0) appendFileSync(quarantine, `${setAside.join("\n")}\n`, { mode: 0o600 });
    if (inputs.length > 0) await append(inputs);
  } catch (err) {
    for (const i of inputs) if (typeof i.payload.fallbackId === "string") seen.delete(i.payload.fallbackId);
    throw err;
  }
  writeOffset(offsetFile, result.offsetBytes);
  return result;
}

/**
 * The complete lines of `file` after byte `start`, and the offset just past them. A file that
 * shrank was replaced by hand: it is read from its start (fids still dedupe). A last line without
 * its newline is left for later: a shim may be writing it now — unless `final` (a draining file
 * past its grace, about to be deleted): then it is taken as it is, and counted bad if it is torn.
 */
function readCompleteLines(file: string, start: number, final: boolean): { text: string; offsetBytes: number } {
  if (!existsSync(file)) return { text: "", offsetBytes: start };
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const from = start > size ? 0 : start;
    const buf = Buffer.alloc(size - from);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    const end = final ? off : buf.subarray(0, off).lastIndexOf(10) + 1;
    return { text: buf.toString("utf8", 0, end), offsetBytes: from + end };
  } finally {
    closeSync(fd);
  }
}

/**
 * The event a fallback record becomes: itself (`source: "fallback"`, its fid as `fallbackId`);
 * `fallback.rejected` with the record and the reason when its payload fails its type's schema; or
 * `fallback.rejected` with `quarantined: true` and no content when it cannot be an event at all.
 */
function toEventInput(rec: FallbackRecord, line: string): { input: EventInput; quarantine: boolean } {
  // Checked before anything walks or serialises the payload: that would overflow the stack.
  if (exceedsDepth(rec.payload, MAX_JSON_DEPTH - 1)) {
    const reason = `the payload is nested too deeply (a record may nest at most ${MAX_JSON_DEPTH} levels)`;
    return { input: quarantinedInput(line, rec.type, reason, rec.fid), quarantine: true };
  }
  const input: EventInput = {
    type: rec.type,
    source: "fallback",
    ts: typeof rec.ts === "string" ? rec.ts : new Date().toISOString(),
    ...(typeof rec.worker === "string" ? { worker: rec.worker } : {}),
    ...(typeof rec.session === "string" ? { session: rec.session } : {}),
    payload: { ...rec.payload, fallbackId: rec.fid },
  };
  try {
    prepareEvent(input);
    return { input, quarantine: false };
  } catch (err) {
    const reason = (err as Error).message.slice(0, 500);
    if (!isSchemaFailure(err)) return { input: quarantinedInput(line, rec.type, reason, rec.fid), quarantine: true };
    // Kept, not dropped: recorded under its own type with the reason, so nothing is lost.
    const payload = { originalType: rec.type, reason, record: rec.payload, fallbackId: rec.fid };
    return { input: { ...input, type: "fallback.rejected", payload }, quarantine: false };
  }
}

/** A zod schema failure (the payload's shape), as opposed to a value that cannot be an event. */
function isSchemaFailure(err: unknown): boolean {
  return (err as Error).name === "ZodError";
}

/** The event standing for a line set aside in the quarantine file: what it was, why, how long. */
function quarantinedInput(line: string, originalType: string, reason: string, fid?: string): EventInput {
  return {
    type: "fallback.rejected",
    source: "fallback",
    payload: { originalType, reason, quarantined: true, bytes: Buffer.byteLength(line), ...(fid ? { fallbackId: fid } : {}) },
  };
}

/** The draining files of fallback log `file` (`<file>.draining.<n>`), oldest first. */
export function drainingFiles(file: string): string[] {
  const prefix = `${basename(file)}.draining.`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return [];
  }
  const numbers: number[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const n = Number(name.slice(prefix.length));
    if (Number.isSafeInteger(n) && n > 0) numbers.push(n);
    // An offset whose file is gone (a rotation cut short between its renames, or a removal cut
    // short between its two deletions) stands for nothing.
    else if (/^\d+\.offset(\.tmp)?$/.test(name.slice(prefix.length)) && !names.includes(name.slice(0, name.indexOf(".offset")))) {
      rmSync(join(dirname(file), name), { force: true });
    }
  }
  return numbers.sort((a, b) => a - b).map((n) => `${file}.draining.${n}`);
}

/**
 * Renames fallback log `file` aside to the next draining name, its offset with it, and starts the
 * next file's offset at 0; returns the draining name. Shims append to a fresh `file` from then on
 * (O_APPEND|O_CREAT). Crash-safe in every order: killed after the offset's rename, the file is
 * read again from 0 (fids dedupe) and the stray offset dropped; after the file's, the draining
 * file is drained at the next start and the new file, with no offset yet, read from 0.
 */
export function rotateFallback(file: string, offsetFile: string): string {
  const existing = drainingFiles(file);
  const last = existing.length > 0 ? Number(existing[existing.length - 1]!.slice(`${file}.draining.`.length)) : 0;
  const draining = `${file}.draining.${last + 1}`;
  if (existsSync(offsetFile)) renameSync(offsetFile, `${draining}.offset`);
  renameSync(file, draining);
  writeOffset(offsetFile, 0);
  syncDir(dirname(file));
  return draining;
}

/** Deletes a drained file and its offset, durably: once gone, its ids may be forgotten. */
export function removeDrained(draining: string): void {
  rmSync(draining, { force: true });
  rmSync(`${draining}.offset`, { force: true });
  syncDir(dirname(draining));
}

/** Makes renames and deletions in `dir` durable (a no-op where a directory cannot be fsynced). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Windows: directories cannot be opened for fsync; its renames are journalled by NTFS.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
