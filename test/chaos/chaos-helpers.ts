// What the chaos scenarios share: reading the record strictly, the process table (/proc), memory
// and CPU of a pid, percentiles, and the one-line figure each scenario prints.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import type { EventRecord } from "../../src/protocol/events.js";
import { allPids, procCmdline } from "../helpers/kill.js";

export const MiB = 1024 * 1024;

/** Prints a scenario's figure, one line, prefixed so the runner can gather them. */
export function figure(scenario: string, text: string): void {
  console.log(`chaos ${scenario}: ${text}`);
}

/** 38044 → "38,044". */
export function n(x: number): string {
  return x.toLocaleString("en-US");
}

/** Every line of the record, each of which must parse (a torn tail would have gone to quarantine). */
export function readRecord(file: string): EventRecord[] {
  const text = readFileSync(file, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the record ends with a whole line");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as EventRecord;
      } catch {
        assert.fail(`line ${i + 1} of ${file} does not parse: ${l.slice(0, 120)}`);
      }
    });
}

/** seq starts at 1 and goes up by exactly one from line to line. */
export function assertSeqGapless(records: EventRecord[]): void {
  records.forEach((r, i) => {
    if (r.seq !== i + 1) assert.fail(`line ${i + 1} has seq ${r.seq} (after ${records[i - 1]?.seq ?? "nothing"}): a gap or a repeat`);
  });
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A uniformly random integer in [lo, hi]. */
export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

// ---- the process table (Linux /proc) ------------------------------------------------------------

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** R, S, D, Z, T… */
  state: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  comm: string;
}

/** One process's /proc/<pid>/stat; null once it is gone. */
export function procStat(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const f = text.slice(close + 2).split(" ");
  return { pid, ppid: Number(f[1]), state: f[0]!, cpuTicks: Number(f[11]) + Number(f[12]), comm };
}

/** A process's environment; empty when it cannot be read (gone, a zombie, another user's). */
export function procEnv(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return env;
  }
  for (const kv of raw.split("\0")) {
    const eq = kv.indexOf("=");
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return env;
}

export interface HomeProcess extends ProcInfo {
  /** CPWD_WORKER_ID of a worker, its wrapper and what it started; undefined for the daemon and shims. */
  worker: string | undefined;
}

/**
 * Live processes started for `home`: the daemon, shims, and every worker process and descendant
 * (each carries CPWD_HOME=home in its environment, which cpwd puts there), and the processes of
 * cpwd's own that run with another environment but name the home's files in their arguments: a
 * wrapper started ahead (its environment is PATH alone; daemon/runner/warm-wrappers.ts), the output
 * mux it starts, a deadline's timer shell. Zombies have no readable environment: see zombiesUnder.
 */
export function homeProcesses(home: string): HomeProcess[] {
  const out: HomeProcess[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const env = procEnv(pid);
    if (env.get("CPWD_HOME") !== home && !procCmdline(pid).includes(`${home}/`)) continue;
    const st = procStat(pid);
    if (!st || st.state === "Z") continue;
    out.push({ ...st, worker: env.get("CPWD_WORKER_ID") });
  }
  return out;
}

/**
 * Whether `p` is a wrapper the daemon `daemonPid` keeps started ahead and that has not taken a
 * launch: its child, started with `--warm`, with no child of its own. It is the daemon's, not a
 * worker's: it ends when the daemon stops.
 */
export function isIdleWarmWrapper(p: ProcInfo, daemonPid: number): boolean {
  if (p.ppid !== daemonPid || !procCmdline(p.pid).endsWith(" --warm")) return false;
  return allPids().every((pid) => procStat(pid)?.ppid !== p.pid);
}

/** The processes of `home` other than its daemon and the daemon's idle warm wrappers: its workers', and anything left over. */
export function workerSideProcesses(home: string, daemonPid: number): HomeProcess[] {
  return homeProcesses(home).filter((p) => p.pid !== daemonPid && !isIdleWarmWrapper(p, daemonPid));
}

/** Zombies whose parent is one of `parents`: children that a live process of ours failed to reap. */
export function zombiesUnder(parents: Iterable<number>): ProcInfo[] {
  const set = new Set(parents);
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (st && st.state === "Z" && set.has(st.ppid)) out.push(st);
  }
  return out;
}

/** SIGKILLs every live process started for `home` except `keep` (cleanup, by pid). */
export function killHomeProcesses(home: string, keep: number[] = []): number {
  let killed = 0;
  for (const p of homeProcesses(home)) {
    if (keep.includes(p.pid)) continue;
    try {
      process.kill(p.pid, "SIGKILL");
      killed++;
    } catch {
      // gone already
    }
  }
  return killed;
}

/** Resident set size of `pid` now, or its peak (VmHWM), in bytes. */
export function rssBytes(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds `pid` has used (user + system). */
export function cpuSeconds(pid: number): number {
  const st = procStat(pid);
  if (!st) throw new Error(`pid ${pid} is gone`);
  return st.cpuTicks / 100; // USER_HZ is 100 on every common Linux architecture
}

/** Removes a scenario's home, or keeps it for a look when it failed and CPWD_CHAOS_KEEP=1. */
export function keepOrRemove(home: string, passed: boolean): void {
  if (!passed && process.env.CPWD_CHAOS_KEEP === "1") {
    console.log(`kept ${home} for a look (CPWD_CHAOS_KEEP=1)`);
    return;
  }
  rmSync(home, { recursive: true, force: true });
}
