// Validation errors as a user reads them: a JSON text that does not parse, with its line and
// column, and each zod issue as "field: what was expected (got what)". Shared by `cpwd apply`
// (cpwd.json), `cpwd config` and the daemon's start (config.json). zod must be parsed with
// `reportInput: true` for the "got" part.
import type { z } from "zod";
import { plural } from "./plural.js";

/** A JSON text parsed, or where and why it does not parse (line and column from 1). */
export type JsonText = { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

/** Parses JSON; on failure, finds the line and column from the offset V8 reports (end of text if none). */
export function parseJsonText(text: string): JsonText {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const raw = (err as Error).message;
    const at = /at position (\d+)/.exec(raw);
    const offset = at ? Math.min(Number(at[1]), text.length) : text.length;
    const before = text.slice(0, offset).split("\n");
    // "… in JSON at position 12 (line 2 column 3)" → "…"; V8's wording changes between versions.
    const message = raw.replace(/\s*in JSON at position \d+.*$/s, "").replace(/^Unexpected end of JSON input$/, "the text ends too early") || "not valid JSON";
    return { ok: false, line: before.length, column: before.at(-1)!.length + 1, message };
  }
}

/** A path as people write it: `restart.mode`, `command[0]`, `env.PATH`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

const NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  array: "a list",
  null: "null",
};

/** A value as the "got" part of a message: short, JSON-quoted, lists and objects by kind. */
function describeInput(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input !== null && typeof input === "object") return "an object";
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

function bound(issue: { origin?: string; inclusive?: boolean }, n: unknown, small: boolean): string {
  const value = Number(n);
  if (issue.origin === "string") return small ? (value === 1 ? "must not be empty" : `needs at least ${plural(value, "character")}`) : `may have at most ${plural(value, "character")}`;
  if (issue.origin === "array") return small ? (value === 1 ? "must not be empty" : `needs at least ${plural(value, "item")}`) : `may have at most ${plural(value, "item")}`;
  const op = small ? (issue.inclusive === false ? ">" : "≥") : issue.inclusive === false ? "<" : "≤";
  return `must be ${op} ${value}`;
}

/** One problem: where (a path) and what, in a plain sentence. */
export interface Problem {
  path: PropertyKey[];
  message: string;
}

/** zod issues as problems, one per unknown field, in the order zod found them. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...issue.path];
    const input = (issue as { input?: unknown }).input;
    const got = "input" in issue && input !== undefined ? ` (got ${describeInput(input)})` : "";
    switch (issue.code) {
      case "invalid_type":
        if (input === undefined) return [{ path, message: "is required" }];
        // A schema's own message (`z.string({ error: "a duration such as \"10s\"" })`) says what is expected.
        if (!issue.message.startsWith("Invalid input")) return [{ path, message: `expected ${issue.message}, got ${describeInput(input)}` }];
        return [{ path, message: `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${describeInput(input)}` }];
      case "invalid_value":
        return [{ path, message: `expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map(String).join("|")}`}${got}` }];
      case "unrecognized_keys":
        return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
      case "too_small":
      case "too_big": {
        // A number is worth repeating; a long string or a list is not.
        const shown = issue.origin === "number" || issue.origin === "int" ? got : "";
        return [{ path, message: `${bound(issue, issue.code === "too_small" ? issue.minimum : issue.maximum, issue.code === "too_small")}${shown}` }];
      }
      case "custom":
        // Custom messages name the value themselves when it helps.
        return [{ path, message: issue.message }];
      default:
        return [{ path, message: `${issue.message}${got}` }];
    }
  });
}
