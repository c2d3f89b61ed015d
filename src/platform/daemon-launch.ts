// How the resident daemon is started, whoever starts it (`cpwd start`, the login service, the hook
// shim's autostart, the tests): Node's flags and the daemon bundle's own entry. One place, so every
// starter runs the same process.
import { posix, win32 } from "node:path";

/**
 * Node's flags for the daemon (issue 11, idle RSS), measured here, paired, 20 s after start:
 * - `--v8-pool-size=1`: V8's background threads down from 4 to 1; an idle thread keeps its stack
 *   and malloc arena resident (1.0 MiB less). The GC's helpers run on one thread instead of four,
 *   which a machine with many idle cores would notice first.
 * It did not change the daemon's CPU per reply (events.append, status; 64 connections × 16 in
 * flight, 2 cores). libuv's pool down to 2 saved nothing more.
 * Not a flag: a raised `--interrupt-budget` (4×) also kept TurboFan from compiling in an idle
 * daemon, whose first run faults ~3.5 MiB of the compiler's machine code out of the node binary
 * into RSS for good, but it left every hot path unoptimised 4× longer (ping p50 0.13 → 0.16 ms,
 * calls/s 19k → 14k in the bench's bursts). What ran hot at idle was path.join over the FIFO
 * stock's 64 names (Node's normalizeString), and the stock now concatenates them instead.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ["--v8-pool-size=1"];

/**
 * The daemon's entry beside a CLI entry: `dist/cli/main.js` → `dist/daemon/main.js`, spelled for
 * `platform`. `cpwd start`, the login service and the shim's autostart run it rather than
 * `cpwd daemon`, so the resident process holds none of the CLI (issue 11: ~3.5 MiB of idle RSS).
 */
export function daemonEntryOf(cliScript: string, platform: NodeJS.Platform = process.platform): string {
  const path = platform === "win32" ? win32 : posix;
  return path.join(path.dirname(path.dirname(cliScript)), "daemon", "main.js");
}

