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

/** How far a start time read from the OS may be off the clock a file's mtime comes from. */
export const START_TOLERANCE_MS = 1_000;

/**
 * True if a process that started at `startedAtMs` can be the one that wrote (or was started before)
 * a record written at `writtenAtMs`: it started no later, give or take `toleranceMs`. A pid reused
 * by a process started after the record is not ours. (Wall-clock ms both.)
 */
export function startedNoLaterThan(startedAtMs: number, writtenAtMs: number, toleranceMs = START_TOLERANCE_MS): boolean {
  return startedAtMs <= writtenAtMs + toleranceMs;
}

const sysconf = new Map<string, number>();

/** What `getconf NAME` prints, as a number, asked once; `fallback` where it cannot say. */
function getconf(name: string, fallback: number): number {
  let v = sysconf.get(name);
  if (v === undefined) {
    try {
      v = Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim()) || fallback;
    } catch {
      v = fallback;
    }
    sysconf.set(name, v);
  }
  return v;
}

/** The kernel's clock ticks per second (USER_HZ), the unit of /proc's times (100 on every common Linux). */
export function clockTicksPerSecond(): number {
  return getconf("CLK_TCK", 100);
}

/** The memory page size, the unit of /proc's RSS. */
export function pageBytes(): number {
  return getconf("PAGESIZE", 4096);
}

/**
 * The process start time as wall-clock ms, for comparing with a file's mtime. Linux only: field 22
 * of /proc/<pid>/stat (clock ticks since boot) plus the boot time (`btime` in /proc/stat, whole
 * seconds, so this may read up to 1 s early). Null where it cannot be read.
 */
export function processStartedAtMs(pid: number): number | null {
  if (process.platform !== "linux") return null;
  const ticks = Number(linuxStat(pid)?.[19]);
  let btime: number;
  try {
    btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
  } catch {
    return null;
  }
  if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return null;
  return btime * 1000 + (ticks * 1000) / clockTicksPerSecond();
}
