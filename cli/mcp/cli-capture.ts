// Runs a CLI command in-process with its output captured, so an MCP tool builds its request and
// words its errors exactly as the command does (`cpwd claude`, `cpwd logs`, `cpwd diff`).
import { Writable } from "node:stream";
import { isUsageError } from "../args.js";
import type { CliContext, Command } from "../context.js";

/** What a command printed and how it ended. */
export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it, as text. */
class TextSink extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/**
 * Runs `command` with `argv` and the server's context, its stdout and stderr captured (never the
 * MCP server's own stdout: that is the protocol channel). A usage error the command throws is
 * worded as `cpwd NAME: message`, as the CLI's entry point words it.
 */
export async function captureCli(name: string, command: Command, argv: string[], ctx: CliContext): Promise<Captured> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  let code: number;
  try {
    code = await command(argv, { ...ctx, stdout, stderr });
  } catch (err) {
    if (!isUsageError(err)) throw err;
    stderr.write(`cpwd ${name}: ${err.message}\n`);
    code = 2;
  }
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * The CLI's error message for a tool error: what it printed on stderr, without the usage text it
 * adds after a bad argument (it names CLI flags, not the tool's parameters).
 */
export function cliMessage(captured: Captured): string {
  const lines = captured.stderr.trimEnd().split("\n");
  const usage = lines.findIndex((l) => l.startsWith("usage: "));
  const message = (usage === -1 ? lines : lines.slice(0, usage)).join("\n").trim();
  return message || `failed with exit code ${captured.code}`;
}
