// Writes a file Claude Code also writes (settings, .mcp.json, ~/.claude.json) without losing its
// change: the new text goes in only if the file still holds what was read, atomically, at the
// end of any symlink, keeping the file's permissions — except for a file that holds a secret (the
// daemon's HTTP hook token), which is made its owner's alone: loopback is open to every local user,
// and the token is all that keeps them from the daemon.
import { chmodSync, lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readIfExists, writeAtomically } from "../../src/platform/atomic-file.js";

/**
 * A file reached through a symlink (dotfiles managers) is written at its target, even when the
 * target does not exist yet: the link is never replaced by a regular file.
 */
export function realTarget(path: string): string {
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(path).isSymbolicLink()) return path;
    } catch {
      return path; // absent: written here
    }
    path = resolve(dirname(path), readlinkSync(path));
  }
  return realpathSync(path); // a loop: let realpath report ELOOP
}

/** The mode of a file that holds a secret: read and written by its owner only. */
export const SECRET_MODE = 0o600;

/** The permission bits of an existing file, else null. */
function modeOf(file: string): number | null {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return null;
  }
}

export interface GuardedWriteOptions {
  /** The mode of a file created. @default 0o644 */
  newMode?: number;
  /** The text holds a secret: the file, new or not, ends SECRET_MODE. @default false */
  secret?: boolean;
}

/**
 * Writes `text` unless the file changed since it was read as `readText` (undefined: it did not
 * exist): Claude Code writes these files too (permissions it was granted, its own state), and its
 * change must not be lost to ours. A new file gets `newMode`; an existing one keeps its mode, but
 * with `secret` any file ends SECRET_MODE (the new text never sits in a file wider than that: it is
 * written to a temp file of that mode and renamed). Returns the mode an existing file had when
 * `secret` changed it, else null.
 */
export async function writeGuarded(file: string, readText: string | undefined, text: string, opts: GuardedWriteOptions = {}): Promise<number | null> {
  const target = realTarget(file);
  const now = (await readIfExists(target))?.toString("utf8");
  if (now !== readText) throw new Error(`${file} changed while cpwd was editing it; nothing written, run again`);
  const was = modeOf(target);
  await writeAtomically(target, text, opts.secret ? SECRET_MODE : (was ?? opts.newMode ?? 0o644));
  return opts.secret && was !== null && was !== SECRET_MODE ? was : null;
}

/** Makes an existing file SECRET_MODE (one written before it held a secret); returns the mode it had when that changed it, else null. */
export function makeSecret(file: string): number | null {
  const target = realTarget(file);
  const was = modeOf(target);
  if (was === null || was === SECRET_MODE) return null;
  chmodSync(target, SECRET_MODE);
  return was;
}
