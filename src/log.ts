// The daemon's operational log (pino): daemon.log, and also stderr under a service manager or in
// the foreground. Never loaded by the hook shim or the fast CLI commands.
import pino, { type Logger } from "pino";

export interface LogOptions {
  file: string;
  /** From CPWD_LOG_LEVEL. @default "info" */
  level?: string;
  /** Also write to stderr (foreground or under a service manager). */
  stderr?: boolean;
}

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** A pino logger writing synchronously-enough to a file destination (no worker-thread transport). */
export function createLogger(opts: LogOptions): Logger {
  const level = opts.level && LEVELS.has(opts.level) ? opts.level : "info";
  const file = pino.destination({ dest: opts.file, mkdir: true, sync: false });
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: file }];
  if (opts.stderr) streams.push({ level: level as pino.Level, stream: pino.destination({ dest: 2, sync: true }) });
  const logger = pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
  return logger;
}

/** Flushes the file destination (before exit). */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // nothing useful to do while exiting
  }
}
