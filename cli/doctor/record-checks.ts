// `cpwd doctor`'s checks of the record: every line of events.jsonl parses, seq climbs by one, and
// the fallback log's saved offset matches what has been taken in. One scan (src/eventlog/scan.ts,
// the pass start-up replay makes) serves the first two.
import { closeSync, createReadStream, openSync, readFileSync, readSync } from "node:fs";
import { createInterface } from "node:readline";
import { readOffset } from "../../src/eventlog/ingest.js";
import { parseEventLine } from "../../src/eventlog/record.js";
import { scanLog, type ScanResult } from "../../src/eventlog/scan.js";
import { plural } from "../../src/protocol/plural.js";
import { fail, lstatOrNull, ok, shellPath, warn, type Doctor, type Finding } from "./check.js";

/** A place where seq does not go up by one: from `after` to `next`. */
interface SeqBreak {
  after: number;
  next: number;
}

interface RecordScan {
  scan: ScanResult;
  breaks: SeqBreak[];
}

const scans = new WeakMap<Doctor, RecordScan>();

/** The scan of events.jsonl, made once per doctor run; seq breaks are noted as it goes. */
function recordScan(d: Doctor): RecordScan {
  const cached = scans.get(d);
  if (cached) return cached;
  const breaks: SeqBreak[] = [];
  let prev: number | null = null;
  const scan = scanLog(d.paths.events, (e) => {
    if (prev !== null && e.seq !== prev + 1) breaks.push({ after: prev, next: e.seq });
    prev = e.seq;
  });
  const result = { scan, breaks };
  scans.set(d, result);
  return result;
}

/** Line numbers (1-based) of the first `max` non-empty lines that are not events. */
async function badLineNumbers(file: string, max: number): Promise<number[]> {
  const found: number[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line !== "" && parseEventLine(line) === null) found.push(n);
    if (found.length >= max) break;
  }
  lines.close();
  return found;
}

/**
 * Every complete line of events.jsonl is an event. A bad line before the last good one is skipped
 * by replay; bytes after the last good one are a write cut short, which the next start moves to
 * events.quarantine.jsonl (while a daemon runs, an unfinished last line is a write in progress).
 */
export async function checkEvents(d: Doctor): Promise<Finding> {
  const { scan } = recordScan(d);
  if (scan.sizeBytes === 0) return ok("no events yet");
  const bad = scan.badLinesKept + (d.daemon ? scan.badLinesInTail : 0);
  if (bad > 0) {
    const lines = await badLineNumbers(d.paths.events, Math.min(bad, 5));
    const at = `line${lines.length === 1 ? "" : "s"} ${lines.join(", ")}${bad > lines.length ? " …" : ""}`;
    return fail(
      `${plural(bad, "line")} of events.jsonl ${bad === 1 ? "does" : "do"} not parse (${at}); replay skips ${bad === 1 ? "it" : "them"}`,
      `\`cpwd stop\`, then move ${at} of ${shellPath(d.paths.events)} into events.quarantine.jsonl`,
    );
  }
  const tailBytes = scan.sizeBytes - scan.goodEndBytes;
  if (tailBytes > 0 && !d.daemon) {
    return warn(`events.jsonl ends in ${plural(tailBytes, "byte")} that are not a whole event (a write cut short)`, "`cpwd start` moves them to events.quarantine.jsonl");
  }
  return ok(`${plural(scan.eventCount, "event")}, every line parses`);
}

/** seq climbs by one from line to line: a jump means events are missing, a step back a copied-in line. */
export function checkSeq(d: Doctor): Finding {
  const { scan, breaks } = recordScan(d);
  if (scan.eventCount === 0) return ok("no events yet");
  if (breaks.length === 0) return ok(`1…${scan.lastSeq} without gaps`);
  const shown = breaks.slice(0, 3).map((b) => (b.next > b.after ? `${b.after} → ${b.next} (${plural(b.next - b.after - 1, "event")} missing)` : `${b.after} → ${b.next} (back)`));
  const more = breaks.length > 3 ? ` and ${breaks.length - 3} more` : "";
  return fail(
    `seq breaks at ${shown.join(", ")}${more}`,
    "events were lost or the file was edited: restore it from a backup if you have one (`cpwd stop` first); replay goes on without them",
  );
}

/** How many complete lines `file` holds between byte `from` and `size`. */
function completeLinesAfter(file: string, from: number, size: number): number {
  if (from >= size) return 0;
  const buf = Buffer.alloc(size - from);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8").split("\n").length - 1;
}

/** events.fallback.jsonl and its `.offset`: what shims wrote while the daemon was down, and how far it was taken in. */
export async function checkFallback(d: Doctor): Promise<Finding> {
  const file = d.paths.fallback;
  const offsetFile = `${file}.offset`;
  const size = lstatOrNull(file)?.size ?? null;
  if (size === null) return ok("empty (nothing written while the daemon was down)");
  let raw: string | null = null;
  try {
    raw = readFileSync(offsetFile, "utf8").trim();
  } catch {
    // no offset yet: nothing taken in
  }
  if (raw !== null && !/^\d+$/.test(raw)) {
    return warn(`${offsetFile} holds ${JSON.stringify(raw.slice(0, 40))}, not a byte offset`, "`cpwd stop && cpwd start` reads the fallback log again from its top (records already in are skipped by id)");
  }
  const offset = readOffset(offsetFile);
  if (offset > size) return warn(`${offsetFile} (${offset}) is past the end of the file (${size} bytes): it was replaced by hand`, "the daemon reads it again from its top at the next append or start (records already in are skipped by id)");
  let pending = completeLinesAfter(file, offset, size);
  if (pending > 0 && d.daemon) {
    // The daemon takes new lines in a few ms after they are written: look again before judging.
    await new Promise((r) => setTimeout(r, 300));
    pending = completeLinesAfter(file, readOffset(offsetFile), lstatOrNull(file)?.size ?? 0);
    if (pending > 0) return warn(`${plural(pending, "record")} not taken in by the running daemon`, `see ${shellPath(d.paths.daemonLog)} ("fallback ingest failed"); \`cpwd stop && cpwd start\` tries again`);
  }
  if (pending > 0) return ok(`${plural(pending, "record")} written while the daemon was down wait for \`cpwd start\``);
  return ok(`taken in up to byte ${offset}`);
}
