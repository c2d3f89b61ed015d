// What every CLI command receives: its streams and environment, injected so tests can drive
// commands in-process and nothing reads process globals at import time.
import type { Writable } from "node:stream";

export interface CliContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
  /** Absolute path of the compiled CLI entry (dist/cli/main.js): what services and `start` run. */
  cliScript: string;
  /** The node binary running us (process.execPath). */
  nodePath: string;
}

/** A command takes its arguments (after the command name) and returns the process exit code. */
export type Command = (argv: string[], ctx: CliContext) => Promise<number>;

export function writeLine(stream: Writable, text = ""): void {
  stream.write(`${text}\n`);
}
