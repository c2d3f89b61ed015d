// Parsing and serialising one line of events.jsonl. The envelope check is hand-written (cheap,
// no zod) because it runs on every line of every replay; payloads are checked at append time.
import type { EventRecord } from "../protocol/events.js";

/** The largest payload one event may carry, serialised (in UTF-16 units, as `JSON.stringify` gives it). */
export const MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;

/**
 * No good line is longer than this many bytes: the largest payload with every unit a 3-byte UTF-8
 * character, and room for the envelope. A reader that has gathered this much without a newline
 * (a tail of NULs after a power cut) drops it as a bad line instead of growing it without end.
 */
export const MAX_LINE_BYTES = 3 * MAX_EVENT_PAYLOAD_BYTES + 64 * 1024;

/** Parses a line into an event, or returns null when it is not a version-1 event line. */
export function parseEventLine(line: string): EventRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  if (e.v !== 1 || typeof e.seq !== "number" || !Number.isInteger(e.seq) || e.seq < 1) return null;
  if (typeof e.type !== "string" || typeof e.ts !== "string" || typeof e.source !== "string") return null;
  if (typeof e.payload !== "object" || e.payload === null || Array.isArray(e.payload)) return null;
  return v as EventRecord;
}

/** One event as its line, newline included. */
export function serializeEvent(e: EventRecord): string {
  return `${JSON.stringify(e)}\n`;
}

/** Distinct strings an encoder keeps quoted before it starts over (ts, types, sources, workers, sessions). */
const MAX_QUOTED = 512;
/** Longer strings are quoted each time, not kept. */
const MAX_QUOTED_LENGTH = 256;

/**
 * Builds the same line as `serializeEvent`, byte for byte, from a payload serialised beforehand:
 * the writer serialises payloads when they are handed in (where a bad one can be refused to its
 * sender) and only the small envelope at commit time. The envelope's strings are quoted once
 * each, not once a line: a batch's lines share their ts and a few types and sources, and a
 * JSON.stringify call costs a few hundred ns even for a short string (three a line were a
 * tenth of the events bench's CPU).
 */
export class LineEncoder {
  private readonly quoted = new Map<string, string>();

  /** One event as its line, newline included; `payloadJson` is `JSON.stringify(e.payload)`. */
  line(e: EventRecord, payloadJson: string): string {
    let line = `{"v":${e.v},"seq":${e.seq},"ts":${this.quote(e.ts)},"type":${this.quote(e.type)},"source":${this.quote(e.source)}`;
    if (e.worker !== undefined) line += `,"worker":${this.quote(e.worker)}`;
    if (e.session !== undefined) line += `,"session":${this.quote(e.session)}`;
    return `${line},"payload":${payloadJson}}\n`;
  }

  /** `JSON.stringify(s)`, remembered. */
  private quote(s: string): string {
    let q = this.quoted.get(s);
    if (q === undefined) {
      q = JSON.stringify(s);
      if (s.length > MAX_QUOTED_LENGTH) return q;
      // Bounded: every batch brings a new ts, and clients may name endless sessions.
      if (this.quoted.size >= MAX_QUOTED) this.quoted.clear();
      this.quoted.set(s, q);
    }
    return q;
  }
}
