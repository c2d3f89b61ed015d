// Small measuring tools shared by the benchmarks: wall time of a command, percentiles, a table.
import { spawnSync } from "node:child_process";

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with, e.g. "1.21× node -e 0". */
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** Wall time in ms of each of `runs` runs of a command (after one warm-up run). */
export function timeCommand(argv: string[], runs: number, env: NodeJS.ProcessEnv = process.env, input?: string): number[] {
  const out: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: [input === undefined ? "ignore" : "pipe", "ignore", "ignore"], input });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw r.error;
    if (i > 0) out.push(ms);
  }
  return out;
}

/** Interleaves runs of several commands so machine noise hits them alike; medians per command. */
export function timeInterleaved(cmds: Record<string, { argv: string[]; env?: NodeJS.ProcessEnv; input?: string }>, runs: number): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of Object.entries(cmds)) samples[k]!.push(...timeCommand(c.argv, 1, c.env, c.input));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

export function printTable(rows: Row[]): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const v = Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(r.value < 10 ? 3 : 1);
    console.log(`${r.name.padEnd(w)}  ${v.padStart(12)} ${r.unit.padEnd(8)} ${r.note ?? ""}`);
  }
}
