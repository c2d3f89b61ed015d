// A Claude Code session run for the benchmarks with the CPU time it used beside its wall time. On
// this 2-core machine shared with other work, wall time swings by seconds between identical
// sessions; the CPU a session burns moves far less, and an HTTP hook's cost inside Claude Code is
// CPU (issue 12: bench/hook-transport.ts). Linux only: elsewhere the CPU reads NaN.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runClaude, type ClaudeRun } from "../test/helpers/claude.js";

/** What one session gave: runClaude's answer, its wall and CPU milliseconds. */
export interface TimedRun extends ClaudeRun {
  wallMs: number;
  /** User + system CPU of Claude Code and every process it waited for (command hooks); NaN when unknown. */
  cpuMs: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU ms of this process's children that have ended and been reaped (cutime + cstime, fields 16
 * and 17 of /proc/self/stat); NaN where there is no /proc.
 */
function reapedChildrenCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 on
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/**
 * runClaude, timed. The CPU is what this process's reaped children gained meanwhile: Claude Code
 * alone, as long as no other child of ours ends during the session (the bench's daemon does not).
 */
export async function runClaudeTimed(opts: Parameters<typeof runClaude>[0]): Promise<TimedRun> {
  const cpu0 = reapedChildrenCpuMs();
  const t0 = performance.now();
  const run = await runClaude(opts);
  return { ...run, wallMs: performance.now() - t0, cpuMs: reapedChildrenCpuMs() - cpu0 };
}
