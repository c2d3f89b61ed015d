// Killing what a test started, by pid, whatever state it is in: for `after` hooks and `finally`;
// and what a pid runs.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** A process's command line, as `ps` shows it. */
export function commandLine(pid: number): string {
  return spawnSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).stdout.trim();
}

/** Sends SIGKILL to each target (a pid, or minus a pid for its process group); one already gone is skipped. */
export function killAll(targets: number[]): void {
  for (const target of targets) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** SIGKILLs each pid's process group, and the pid itself (for one that is not a group leader). */
export function killGroups(pids: number[]): void {
  killAll(pids.flatMap((pid) => [-pid, pid]));
}

/** Every pid in the process table. */
export function allPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** A process's command line, its arguments joined by spaces; "" when it cannot be read. */
export function procCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0$/, "").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
