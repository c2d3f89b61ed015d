// A Claude Code session run for the benchmarks with the CPU time it used beside its wall time. On
// this 2-core machine shared with other work, wall time swings by seconds between identical
// sessions; the CPU a session burns moves far less, and an HTTP hook's cost inside Claude Code is
// CPU (issue 12: bench/hook-transport.ts). Linux only: elsewhere the CPU reads NaN.
import { spawn } from "node:child_process";
import { execSync } from "node:child_process";
import { CLAUDE_BIN } from "../test/helpers/claude.js";

/** What one session gave: its stream-json lines, its result line, wall and CPU milliseconds. */
export interface TimedRun {
  lines: any[];
  result: any;
  stderr: string;
  wallMs: number;
  /** User + system CPU of Claude Code and every process it waited for (command hooks); NaN when unknown. */
  cpuMs: number;
}

/** The line the wrapper adds to stderr: its children's user and system clock ticks, as /proc gives them. */
const MARK = "cpwd-bench-cpu";

/**
 * The wrapper: a shell runs Claude Code as its child, then reads its own /proc stat, whose
 * cutime and cstime (fields 16 and 17) hold the CPU of the children it has waited for.
 */
const WRAPPER = `"$0" "$@"; rc=$?; if read -r s < /proc/$$/stat 2>/dev/null; then set -- \${s##*) }; shift 13; echo "${MARK} $1 $2" >&2; fi; exit $rc`;

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

/** `claude -p PROMPT --output-format stream-json --verbose` to completion, as test/helpers/claude.ts runs it, timed. */
export function runClaudeTimed(opts: { cwd: string; prompt: string; env: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number }): Promise<TimedRun> {
  const args = ["-p", opts.prompt, "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits", ...(opts.args ?? [])];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("/bin/sh", ["-c", WRAPPER, CLAUDE_BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const mark = new RegExp(`^${MARK} (\\d+) (\\d+)$`, "m").exec(stderr);
      const cpuMs = mark ? ((Number(mark[1]) + Number(mark[2])) * 1000) / clockTicks() : Number.NaN;
      const lines = stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
      resolve({ lines, result: lines.find((l) => l.type === "result"), stderr, wallMs, cpuMs });
    });
  });
}
