// A worker's process-tree usage as `status` shows it: "12.5%" and "48.2M", "-" when unmeasured.
import type { ProcessUsage } from "../../src/protocol/workers.js";

/** CPU % of one core: one decimal below 10, whole above. */
export function formatCpu(u: ProcessUsage | null | undefined): string {
  const p = u?.cpuPercent;
  if (p === null || p === undefined) return "-";
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/** Resident memory in binary units, as `top` prints it: 812K, 48.2M, 1.3G. */
export function formatRss(u: ProcessUsage | null | undefined): string {
  if (!u) return "-";
  const units = ["K", "M", "G", "T"];
  let v = u.rssBytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}
