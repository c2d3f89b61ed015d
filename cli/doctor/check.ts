// What `cpwd doctor` knows before its checks run, and what a check returns. The facts several
// checks share (the daemon that answers, the config, the scan of events.jsonl) are read once here.
import { existsSync, lstatSync, type Stats } from "node:fs";
import type { CpwdPaths } from "../../src/platform/paths.js";
import { loadConfig, type Config } from "../../src/platform/config.js";
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import { connect } from "../../src/rpc/client.js";
import type { CliContext } from "../context.js";

/** How a check came out: `warn` is advice (not set up, not running), `fail` is something broken. */
export type Verdict = "ok" | "warn" | "fail";

/** One check's one line: what it found and, unless all is well, how to fix it. */
export interface Finding {
  status: Verdict;
  message: string;
  fix?: string;
}

export interface CheckResult extends Finding {
  name: string;
}

/** The daemon answering on the socket, as its `status` describes it. */
export interface LiveDaemon {
  pid: number;
  version: string;
  /** Set while the event log cannot be written (a full disk). */
  eventLogFailure: { errno: string; since: string } | null;
}

/** What every check may read; gathered once by `gatherFacts`. */
export interface Doctor {
  ctx: CliContext;
  paths: CpwdPaths;
  /** The project whose Claude Code settings are checked (--dir, else the current folder). */
  projectDir: string;
  /** null when nobody answers on the socket. */
  daemon: LiveDaemon | null;
  /** Why the socket refused us (EACCES), when it did. */
  daemonRefused: string | null;
  /** config.json with defaults; null when it is invalid (configError says why). */
  config: Config | null;
  configError: string | null;
}

/** One row of the check table: a name and a small function. */
export interface Check {
  name: string;
  run(d: Doctor): Finding | Promise<Finding>;
}

export const ok = (message: string): Finding => ({ status: "ok", message });
export const warn = (message: string, fix?: string): Finding => ({ status: "warn", message, ...(fix ? { fix } : {}) });
export const fail = (message: string, fix?: string): Finding => ({ status: "fail", message, ...(fix ? { fix } : {}) });

/** A path's own stats (a symlink is not followed), or null when it is not there. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** A path quoted for a POSIX shell when it needs it, so a fix can be pasted as it is. */
export function shellPath(path: string): string {
  return /^[A-Za-z0-9_/.:=+%@,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Asks the daemon for its status with short deadlines; nobody answering is null, not an error. */
async function probeStatus(socket: string, timeoutMs: number): Promise<{ daemon: LiveDaemon | null; refused: string | null }> {
  try {
    const client = await connect(socket, { connectTimeoutMs: timeoutMs });
    try {
      const s = await client.call("status", undefined, { timeoutMs: timeoutMs * 3 });
      const failure = (s.eventLogFailure ?? null) as LiveDaemon["eventLogFailure"];
      return { daemon: { pid: s.daemon.pid, version: s.daemon.version, eventLogFailure: failure }, refused: null };
    } finally {
      client.close();
    }
  } catch (err) {
    if (isCpwdError(err, ErrorCode.PermissionDenied)) return { daemon: null, refused: (err as Error).message };
    return { daemon: null, refused: null };
  }
}

/** Reads the shared facts: the daemon (1 s to answer), the config. Never throws for a broken home. */
export async function gatherFacts(ctx: CliContext, paths: CpwdPaths, projectDir: string): Promise<Doctor> {
  const probe = existsSync(paths.socket) || process.platform === "win32" ? await probeStatus(paths.socket, 1_000) : { daemon: null, refused: null };
  let config: Config | null = null;
  let configError: string | null = null;
  try {
    config = loadConfig(paths.config);
  } catch (err) {
    configError = (err as Error).message;
  }
  return { ctx, paths, projectDir, daemon: probe.daemon, daemonRefused: probe.refused, config, configError };
}
