// Colour on the terminal, and only there: none when stdout is a pipe or a file, when NO_COLOR is
// set (no-color.org: to anything but the empty string) or when TERM is "dumb".
import type { Writable } from "node:stream";

const CODES = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
export type Style = keyof typeof CODES;

/** Should text written to `stdout` be coloured? */
export function wantsColour(stdout: Writable, env: NodeJS.ProcessEnv): boolean {
  return (stdout as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/** `text` in `style` when `on`, else as it is. */
export function paint(on: boolean, style: Style | null, text: string): string {
  return on && style !== null && text !== "" ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text;
}

/** The colour of a worker state: green running, yellow on its way, red failed, dim stopped. */
export function stateStyle(state: string): Style | null {
  if (state === "running") return "green";
  if (state === "failed" || state === "fatal" || state === "timed_out") return "red";
  if (state === "stopped") return "dim";
  if (state === "exited") return null;
  return "yellow"; // queued, starting, stopping, backoff
}
