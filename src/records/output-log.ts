// The format of a worker's `logs/output.log`: both of its streams in the order the output mux
// (daemon/runner/output-mux.ts) read them, one record a line:
//
//   <ms since the epoch> <o|e>[+] <bytes>\n
//
// `o` is stdout, `e` stderr. A record holds one line of the stream without its newline; a `+` after
// the letter says the line goes on in that stream's next record (the mux read it in pieces: a
// prompt, a progress bar, a line longer than a read). The bytes are the worker's, unchanged (never a
// newline), so joining a stream's records gives back exactly what it wrote. Lines that do not parse
// (a rotation cut mid-line, or its "[cpwd: … dropped]" note) are read as notes of no stream.
// The mux writes this format; this module reads it.

/** One record of output.log. */
export interface OutputRecord {
  /** When the mux read it, ms since the epoch; null for a note. */
  ms: number | null;
  /** null for a line that is not a record (a note). */
  stream: "stdout" | "stderr" | null;
  /** The bytes of the line (or of a piece of it), without the newline. */
  bytes: Buffer;
  /** True when the line goes on in the stream's next record. */
  continues: boolean;
}

const SPACE = 0x20;

/** Reads one line of output.log (without its newline). */
export function parseOutputRecord(line: Buffer): OutputRecord {
  const note: OutputRecord = { ms: null, stream: null, bytes: line, continues: false };
  const space = line.indexOf(SPACE);
  if (space < 1 || space > 16) return note;
  const ms = Number(line.toString("latin1", 0, space));
  if (!Number.isSafeInteger(ms)) return note;
  const tag = line[space + 1];
  const stream = tag === 0x6f ? "stdout" : tag === 0x65 ? "stderr" : null;
  const continues = line[space + 2] === 0x2b;
  const at = space + (continues ? 3 : 2);
  if (stream === null || line[at] !== SPACE) return note;
  return { ms, stream, bytes: line.subarray(at + 1), continues };
}
