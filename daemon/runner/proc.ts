// Facts about processes by pid: alive (zombies count as dead), and the start time the OS reports,
// which tells our worker from an unrelated process that reuses its pid after a daemon restart.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

function linuxStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name, which may itself contain spaces or parens.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** True if the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform === "linux") {
    const f = linuxStat(pid);
    return f !== null && f[0] !== "Z";
  }
  return true;
}

/** The process start time as an opaque string (Linux: clock ticks since boot; macOS: `ps lstart`). */
export function processStartTime(pid: number): string | null {
  if (process.platform === "linux") {
    // Field 22 of /proc/<pid>/stat; index 19 once the pid and name are cut off.
    return linuxStat(pid)?.[19] ?? null;
  }
  try {
    return execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}
