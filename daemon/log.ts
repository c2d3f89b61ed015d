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

/** Log lines held in memory while the file cannot be written (a full disk); past this they are dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * A pino logger writing synchronously-enough to a file destination (no worker-thread transport).
 *
 * A failed write (ENOSPC) must not become an "uncaught exception" that the daemon then logs: that
 * log line fails too, and the loop spins the CPU and grows memory for as long as the disk is full
 * (seen, and a `cpwd stop` could not end it). So the destination's errors are swallowed here, the
 * lines waiting for the disk are capped, and the next write after space comes back goes through.
 */
export function createLogger(opts: LogOptions): Logger {
  const level = opts.level && LEVELS.has(opts.level) ? opts.level : "info";
  // 0600 like everything in CPWD_HOME: under a service manager nothing else creates the file first.
  const file = pino.destination({ dest: opts.file, mkdir: true, sync: false, maxLength: MAX_BUFFERED_BYTES, mode: 0o600 });
  let retry: NodeJS.Timeout | undefined;
  const state = { failing: false, file };
  file.on("write", () => (state.failing = false));
  file.on("error", () => {
    state.failing = true;
    // Nowhere to report it: the operational log is the thing failing (the event log and `cpwd
    // status` say when the disk is full). Try again in a while: once the buffer is full, new lines
    // are dropped without a write being attempted, so nothing else would.
    retry ??= setTimeout(() => {
      retry = undefined;
      try {
        file.write("");
      } catch {
        // destroyed while exiting
      }
    }, 1000).unref();
  });
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: file }];
  if (opts.stderr) streams.push({ level: level as pino.Level, stream: pino.destination({ dest: 2, sync: true }) });
  const logger = pino({ level, base: { pid: process.pid } }, pino.multistream(streams));
  destinations.set(logger, state);
  return logger;
}

/** Each logger's file destination, and whether its last write failed. */
const destinations = new WeakMap<Logger, { failing: boolean; file: { destroy(): void } }>();

/**
 * Flushes the file destination (before exit). A destination whose writes fail is dropped instead:
 * pino flushes synchronously at exit, and sonic-boom retries a failing synchronous write (ENOSPC)
 * forever, so a daemon with a full disk would never exit (seen: `cpwd stop` said stopped, the
 * process slept on). What it held could not be written anyway.
 */
export function flushLogger(logger: Logger): void {
  const dest = destinations.get(logger);
  try {
    if (dest?.failing) {
      dest.file.destroy();
      return;
    }
    logger.flush();
  } catch {
    // nothing useful to do while exiting
  }
}
