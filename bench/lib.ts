// Measuring tools shared by the benchmarks: a figure with its baseline, target and verdict; wall
// time of commands run in interleaved rounds (medians of paired ratios); peak RSS of a Node child;
// RSS of a live process; the table.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanup, killWorkers, startDaemon, tempHome, type TestDaemon } from "../test/helpers/daemon.js";

/** A target: the figure's value (or its ratio to the baseline) against a limit from issue 11. */
export interface Target {
  of: "value" | "ratio";
  op: "<=" | "<" | ">=";
  limit: number;
  /** As printed, e.g. "≤ 1.25×". */
  text: string;
  /** "keep" targets: the limit is today's figure, and being above it reads "above ref", not "MISS". */
  keep?: boolean;
}

/** One line of the table. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The same run's baseline, measured interleaved with the figure where it is a timing. */
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline; for timings, the median of the per-round ratios (paired runs). */
  ratio?: number;
  target?: Target;
  /** A figure of issue 11's table (false: a diagnostic printed beside them). */
  issue: boolean;
  note?: string;
}

/** Target: the ratio to the baseline at most `limit` ("≤ 1.25×"). */
export function ratioAtMost(limit: number): Target {
  return { of: "ratio", op: "<=", limit, text: `≤ ${limit}×` };
}

/** Target: keep the ratio to the baseline at today's `ref`; above it reads "above ref", not "MISS". */
export function keepRatio(ref: number): Target {
  return { of: "ratio", op: "<=", limit: ref, text: `keep (ref ${ref}×)`, keep: true };
}

/** Target: the value itself at most `limit` of its `unit` ("≤ 5 ms"). */
export function valueAtMost(limit: number, unit: string): Target {
  return { of: "value", op: "<=", limit, text: `≤ ${limit} ${unit}` };
}

/** What a figure says besides its value, baseline and ratio. */
export type FigureLabel = Pick<Figure, "name" | "target" | "issue" | "note">;

/** The fields of `label` that are set, in the table's order. */
function labelled(label: FigureLabel): Pick<Figure, "target" | "issue" | "note"> {
  return { ...(label.target ? { target: label.target } : {}), issue: label.issue, ...(label.note !== undefined ? { note: label.note } : {}) };
}

/** A figure beside a baseline measured in the same run, in the same unit; its ratio is value / baseline. */
export function against(label: FigureLabel, measured: { value: number; unit: string }, baseline: { name: string; value: number }): Figure {
  return { name: label.name, ...measured, baseline: { ...baseline, unit: measured.unit }, ratio: measured.value / baseline.value, ...labelled(label) };
}

/**
 * The median wall time of command `key` in the rounds `t`, beside that of command `base.key` (shown
 * as `base.name`); the ratio is the median of the per-round ratios, not a ratio of medians.
 */
export function timedAgainst(label: FigureLabel, t: Interleaved, key: string, base: { key: string; name: string }): Figure {
  return { name: label.name, value: t.ms[key]!, unit: "ms", baseline: { name: base.name, value: t.ms[base.key]!, unit: "ms" }, ratio: t.ratio(key, base.key), ...labelled(label) };
}

export type Verdict = "ok" | "MISS" | "above ref" | "—";

export function verdict(f: Figure): Verdict {
  const t = f.target;
  if (!t) return "—";
  const x = t.of === "ratio" ? f.ratio : f.value;
  if (x === undefined || Number.isNaN(x)) return "MISS";
  const pass = t.op === "<=" ? x <= t.limit : t.op === "<" ? x < t.limit : x >= t.limit;
  return pass ? "ok" : t.keep ? "above ref" : "MISS";
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Cmd {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** Wall time in ms of one run of a command, its output discarded. Throws if it fails. */
export function timeOnce(c: Cmd): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.argv[0]!, c.argv.slice(1), { env: c.env ?? process.env, stdio: [c.input === undefined ? "ignore" : "pipe", "ignore", "pipe"], input: c.input });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${c.argv.join(" ")} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`);
  return ms;
}

export interface Interleaved {
  /** Median wall time of each command, ms. */
  ms: Record<string, number>;
  /** Every sample, by command, in round order. */
  samples: Record<string, number[]>;
  /** Median over rounds of samples[a][i] / samples[b][i]. */
  ratio(a: string, b: string): number;
}

/**
 * Runs each command once per round, in the same order, after one warm-up round: a noisy moment
 * hits a round's commands alike, so per-round ratios are steadier than a ratio of medians.
 */
export function timeRounds(cmds: Record<string, Cmd>, rounds: number): Interleaved {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i <= rounds; i++) {
    for (const [k, c] of Object.entries(cmds)) {
      const ms = timeOnce(c);
      if (i > 0) samples[k]!.push(ms);
    }
  }
  return {
    ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
    samples,
    ratio: (a, b) => median(samples[a]!.map((x, i) => x / samples[b]![i]!)),
  };
}

// Written to a temp file and `--require`d: the child reports its own peak RSS on fd 3 as it exits.
const MAX_RSS_PRELOAD = `process.on("exit", () => { try { require("fs").writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });\n`;

/** Runs `node ...args` to completion; its wall time (ms) and peak RSS (KiB) as the kernel counted it. */
export function runNodeMeasured(args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; maxRssKiB: number } {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-bench-rss-"));
  try {
    const preload = join(dir, "max-rss.cjs");
    writeFileSync(preload, MAX_RSS_PRELOAD);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["--require", preload, ...args], { env, stdio: ["ignore", "ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`);
    return { ms, maxRssKiB: Number(r.output[3]?.toString() ?? NaN) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resident memory of a live process, KiB (Linux /proc). */
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

/** Peak resident memory of a live process so far, KiB (Linux /proc: VmHWM). */
export function peakRssKiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

/** Median of `n` RSS samples `stepMs` apart, MiB: one sample can land just before a GC. */
export async function sampleRssMiB(pids: number[], n = 5, stepMs = 200): Promise<number[]> {
  const s: number[][] = pids.map(() => []);
  for (let i = 0; i < n; i++) {
    pids.forEach((p, j) => s[j]!.push(rssKiB(p) / 1024));
    if (i < n - 1) await sleep(stepMs);
  }
  return s.map(median);
}

/** Cleanups to run if the bench is interrupted (Ctrl-C): pm2's daemon must never be left behind. */
const interruptCleanups = new Set<() => void>();
export function onInterrupt(fn: () => void): () => void {
  interruptCleanups.add(fn);
  return () => interruptCleanups.delete(fn);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    for (const fn of interruptCleanups) {
      try {
        fn();
      } catch {
        // best effort on the way out
      }
    }
    process.exit(130);
  });
}

/**
 * Runs `body` against a fresh daemon (CPWD_LOG_LEVEL=warn) in `home` (a new temp one by default),
 * with `config` written first; then stops it, kills its workers and removes the home (unless
 * `keepHome`, for a second start on it) — also if the bench is interrupted.
 */
export async function withBenchDaemon<T>(opts: { home?: string; config?: Record<string, unknown>; keepHome?: boolean }, body: (d: TestDaemon) => Promise<T>): Promise<T> {
  const home = opts.home ?? tempHome("cpwd-bench-");
  let d: TestDaemon | undefined;
  const forget = onInterrupt(() => {
    d?.proc.kill("SIGKILL");
    killWorkers(home);
    rmSync(home, { recursive: true, force: true });
  });
  try {
    if (opts.config) writeFileSync(join(home, "config.json"), JSON.stringify(opts.config));
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    return await body(d);
  } finally {
    forget();
    if (opts.keepHome) await d?.stop();
    else await cleanup(d, home);
  }
}

function fmt(x: number, unit: string): string {
  if (Number.isNaN(x)) return "n/a";
  if (unit === "events/s" || unit === "calls/s") return `${Math.round(x).toLocaleString("en-US")}/s`;
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3;
  return `${x.toFixed(digits)} ${unit}`;
}

/** The table as Markdown: what the bench prints and what docs/performance.md holds. */
export function formatTable(figures: Figure[]): string {
  const header = ["figure", "measured", "baseline (same run)", "ratio", "target", "result"];
  const row = (f: Figure): string[] => [
    f.name + (f.note ? ` (${f.note})` : ""),
    fmt(f.value, f.unit),
    f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value, f.baseline.unit)}` : "—",
    f.ratio === undefined ? "—" : `${f.ratio.toFixed(2)}×`,
    f.target?.text ?? "—",
    verdict(f),
  ];
  const lines = [header, header.map(() => "---")];
  const issue = figures.filter((f) => f.issue);
  const other = figures.filter((f) => !f.issue);
  for (const f of issue) lines.push(row(f));
  if (other.length > 0) {
    lines.push(["*other figures*", "", "", "", "", ""]);
    for (const f of other) lines.push(row(f));
  }
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
