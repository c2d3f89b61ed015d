// How wide the output may be: the terminal's width when stdout is one, else COLUMNS from the
// environment (what `ls` and `ps` honour in a pipe), else a fixed default.
import type { Writable } from "node:stream";

/** The width used when neither the terminal nor COLUMNS says. */
export const DEFAULT_COLUMNS = 120;

/** stdout's width: the TTY's, else env COLUMNS when it is a positive integer, else 120. */
export function outputColumns(stdout: Writable, env: NodeJS.ProcessEnv): number {
  const tty = (stdout as { columns?: number }).columns;
  if (typeof tty === "number" && tty > 0) return tty;
  const raw = env.COLUMNS?.trim() ?? "";
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_COLUMNS;
}
