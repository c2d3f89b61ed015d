// Whether a module is the process's entry (`node that/file.js`), not imported: how the CLI and the
// daemon bundle each run their main only when started directly.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** True when `moduleUrl` (the caller's import.meta.url) is the script Node was started with. */
export function isProcessEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
