// Writes a file Claude Code also writes (settings, .mcp.json, ~/.claude.json) without losing its
// change: the new text goes in only if the file still holds what was read, atomically, at the
// end of any symlink, keeping the file's permissions.
import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
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

/** The permission bits of an existing file, else `fallback`. */
function modeOf(file: string, fallback: number): number {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return fallback;
  }
}

/**
 * Writes `text` unless the file changed since it was read as `readText` (undefined: it did not
 * exist): Claude Code writes these files too (permissions it was granted, its own state), and its
 * change must not be lost to ours. A new file gets `newMode`; an existing one keeps its mode.
 */
export async function writeGuarded(file: string, readText: string | undefined, text: string, newMode = 0o644): Promise<void> {
  const target = realTarget(file);
  const now = (await readIfExists(target))?.toString("utf8");
  if (now !== readText) throw new Error(`${file} changed while cpwd was editing it; nothing written, run again`);
  await writeAtomically(target, text, modeOf(target, newMode));
}
