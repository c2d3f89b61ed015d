// Claude Code's background sessions for `cpwd status`: `claude agents --json`, run with the
// binary cpwd uses (CPWD_CLAUDE_BIN, else config.json's claudeBin, else `claude`) and a short
// deadline. Whatever goes wrong (no claude, a hang, an exit, output that is not a JSON array)
// becomes a one-line note, never an error: status must not depend on another program.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BackgroundSession, BackgroundSessionsView } from "../src/protocol/native-work.js";
import { readConfigObject } from "../hooks/shim-settings.js";
import type { CliContext } from "./context.js";

/** How long `claude agents --json` may take (it starts in about half a second). */
export const CLAUDE_AGENTS_TIMEOUT_MS = 1_500;
/** Its output beyond this is not read (a JSON array of sessions is far smaller). */
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** A reading is reused this long: `status --watch` redraws up to 4 times a second, claude starts in ~0.5 s. */
export const CLAUDE_AGENTS_REUSE_MS = 5_000;
/** The latest reading by binary, while it is fresh. */
const recent = new Map<string, { atMs: number; reading: Promise<BackgroundSessionsView> }>();

/** The claude binary: CPWD_CLAUDE_BIN, else config.json's claudeBin (read without zod), else `claude`. */
export function claudeBinFor(ctx: CliContext, configFile: string): string {
  const fromConfig = readConfigObject(configFile).claudeBin;
  return ctx.env.CPWD_CLAUDE_BIN || (typeof fromConfig === "string" && fromConfig !== "" ? fromConfig : "claude");
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** One entry of the array, the fields cpwd shows; null when it is not an object. */
function sessionOf(v: unknown): BackgroundSession | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const started = typeof o.startedAt === "number" ? new Date(o.startedAt) : typeof o.startedAt === "string" ? new Date(o.startedAt) : null;
  return {
    id: str(o.id),
    sessionId: str(o.sessionId),
    kind: str(o.kind),
    name: str(o.name),
    cwd: str(o.cwd),
    // Background sessions say `state` (working, blocked), interactive ones `status` (busy, idle).
    state: str(o.state) ?? str(o.status),
    startedAt: started && !Number.isNaN(started.getTime()) ? started.toISOString() : null,
    pid: typeof o.pid === "number" ? o.pid : null,
  };
}

/** `claude agents --json`'s stdout → its sessions; throws a short reason when it is not an array. */
export function parseClaudeAgents(stdout: string): BackgroundSession[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error("its output is not JSON");
  }
  if (!Array.isArray(value)) throw new Error("its output is not a JSON array");
  return value.map(sessionOf).filter((s): s is BackgroundSession => s !== null);
}

/**
 * Runs `BIN agents --json` (or reuses its reading from the last CLAUDE_AGENTS_REUSE_MS); resolves
 * with the sessions, or with null and a note saying why not.
 */
export function readBackgroundSessions(ctx: CliContext, bin: string, timeoutMs = CLAUDE_AGENTS_TIMEOUT_MS): Promise<BackgroundSessionsView> {
  const now = Date.now();
  const last = recent.get(bin);
  if (last && now - last.atMs < CLAUDE_AGENTS_REUSE_MS) return last.reading;
  const reading = runClaudeAgents(ctx, bin, timeoutMs);
  recent.set(bin, { atMs: now, reading });
  return reading;
}

function runClaudeAgents(ctx: CliContext, bin: string, timeoutMs: number): Promise<BackgroundSessionsView> {
  const note = (why: string): BackgroundSessionsView => ({ sessions: null, note: `Claude Code's background sessions not read: ${why}` });
  return new Promise((resolve) => {
    try {
      // node:child_process (with net, dgram…) is loaded only here: a plain `cpwd status` never runs claude.
      const { execFile } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
      execFile(
        bin,
        ["agents", "--json"],
        { cwd: ctx.cwd, env: ctx.env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_OUTPUT_BYTES, encoding: "utf8", windowsHide: true },
        (err, stdout) => {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
          if (e?.code === "ENOENT") return resolve(note(`${bin} not found${bin.includes("/") ? "" : " on PATH"} (CPWD_CLAUDE_BIN or claudeBin names it)`));
          if (e?.killed) return resolve(note(`\`${bin} agents --json\` did not answer within ${timeoutMs / 1000} s`));
          if (e) return resolve(note(`\`${bin} agents --json\` ${typeof e.code === "number" ? `exited ${e.code}` : `failed (${e.code ?? e.message})`}`));
          try {
            resolve({ sessions: parseClaudeAgents(stdout) });
          } catch (why) {
            resolve(note(`\`${bin} agents --json\`: ${(why as Error).message}`));
          }
        },
      );
    } catch (err) {
      // execFile throws synchronously on some bad arguments (a NUL in the path, say).
      resolve(note(`${bin} cannot be run (${(err as Error).message})`));
    }
  });
}

/**
 * The reading saved in CPWD_HOME by the last status, when it is younger than `maxAgeMs`; null
 * otherwise. Kept in a file because each `cpwd status` is a process of its own.
 */
export function savedBackgroundSessions(file: string, now: number, maxAgeMs: number): (BackgroundSessionsView & { atMs: number }) | null {
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as { atMs?: unknown; view?: { sessions?: unknown; note?: unknown } };
    if (typeof saved.atMs !== "number" || now - saved.atMs > maxAgeMs || now < saved.atMs) return null;
    const sessions = Array.isArray(saved.view?.sessions) ? (saved.view.sessions as BackgroundSession[]) : null;
    return { sessions, ...(typeof saved.view?.note === "string" ? { note: saved.view.note } : {}), atMs: saved.atMs };
  } catch {
    return null;
  }
}

/**
 * Saves a reading for the next `cpwd status` (0600: it names the user's sessions and folders).
 * Written beside and renamed over, so a reader never sees half of it; not flushed to disk: it is a
 * cache, and one lost to a crash (or left empty by it) is read as no reading. Synchronous, with the
 * fs functions already loaded: the fsync and node:fs/promises cost `status --json` ~30 ms (paired,
 * load ~5) every time the reading is taken anew.
 */
export function saveBackgroundSessions(file: string, view: BackgroundSessionsView, now = Date.now()): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ atMs: now, view })}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Only a cache: a read-only or full home must not fail status.
    rmSync(tmp, { force: true });
  }
}
