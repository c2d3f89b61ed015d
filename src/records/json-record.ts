// Reading a small JSON record of cpwd's back from disk, for the record modules beside this one.
// Absent, half-written and malformed all read as "no record": every caller treats them alike
// (waits, or decides without it), and each record module then checks its fields, never casts.
import { readFileSync } from "node:fs";

/** The JSON object in `file`; null when it is absent, unreadable, not JSON or not an object. */
export function readJsonObject(file: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** A process id: a whole number above zero. */
export function isPid(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** A string, or null (a field a record may leave unknown). Absent counts as null. */
export function isStringOrNull(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === "string";
}
