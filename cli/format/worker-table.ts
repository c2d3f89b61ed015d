// The worker table of `cpwd status` and `cpwd replay`: one row a worker, the command cut to fit
// the terminal. Types only from the protocol: no zod on this path.
import { describeRefusals, type RefusalFacts } from "../../src/protocol/claude-permissions.js";
import { plural } from "../../src/protocol/plural.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import { paint, stateStyle, type Style } from "./colour.js";
import { formatDuration } from "./durations.js";
import { formatCpu, formatRss } from "./process-usage.js";

function exitText(w: WorkerView): string {
  if (w.signal) return w.signal;
  if (w.exitCode !== null) return String(w.exitCode);
  return "-";
}

function stateText(w: WorkerView, nowMs: number): string {
  if (w.state === "backoff" && w.nextStartAt) return `backoff ${formatDuration(Math.max(0, Date.parse(w.nextStartAt) - nowMs))}`;
  return w.state;
}

/**
 * What Claude Code refused in a Claude worker's run, under the table: `W3 done, but 2 actions were
 * refused (Write np.txt, Bash npm test)`, or `W3 needs attention: every edit was refused (…)`.
 */
function refusalLine(w: WorkerView, c: RefusalFacts): string | null {
  const r = describeRefusals(c);
  if (r === null) return null;
  if (r.attention) return `${w.id} needs attention: ${r.text}`;
  const lead = w.state === "exited" ? "done, but " : ["starting", "running", "stopping"].includes(w.state) ? "so far " : "";
  return `${w.id} ${lead}${r.text}`;
}

/** States whose reason is printed under the table (a queued or backing-off worker's: what holds it). */
const REASON_STATES = new Set(["fatal", "failed", "stopped", "queued", "backoff"]);

/**
 * Renders the table for a terminal `columns` wide. While a worker runs, views that carry `usage`
 * (the daemon's, not replay's) get CPU and MEM columns: the process trees' CPU % and resident
 * memory ("-" where not measured). `colour`: states in colour, the header in bold.
 */
export function formatWorkerTable(workers: WorkerView[], columns: number, nowMs: number, opts: { colour?: boolean } = {}): string {
  if (workers.length === 0) return "workers: none";
  const usage = workers.some((w) => w.usage !== undefined && w.pid !== null);
  const head = ["ID", "NAME", "STATE", "PID", ...(usage ? ["CPU", "MEM"] : []), "TIME", "RESTARTS", "EXIT", "COMMAND"];
  const rows = workers.map((w) => [
    w.id,
    w.name ?? "-",
    stateText(w, nowMs),
    w.pid === null ? "-" : String(w.pid),
    ...(usage ? [formatCpu(w.usage), formatRss(w.usage)] : []),
    w.runMs === null ? "-" : formatDuration(w.runMs),
    String(w.restarts),
    exitText(w),
    w.command.map((a) => (/[\s"'$`\\]/.test(a) ? JSON.stringify(a) : a)).join(" "),
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Numbers (CPU, MEM) read best right-aligned; colour wraps a cell already padded, so the
  // widths are the plain text's.
  const right = new Set(usage ? [4, 5] : []);
  const lineOf = (cells: string[], style: (i: number) => Style | null) => {
    const fixed = cells.slice(0, -1).map((c, i) => paint(opts.colour === true, style(i), right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
    const plainWidth = widths.reduce((a, b) => a + b + 2, 0);
    const room = Math.max(10, columns - plainWidth);
    const cmd = cells[cells.length - 1]!;
    return `${fixed}  ${paint(opts.colour === true, style(cells.length - 1), cmd.length > room ? `${cmd.slice(0, room - 1)}…` : cmd)}`.trimEnd();
  };
  const lines = [lineOf(head, () => "bold"), ...rows.map((r, n) => lineOf(r, (i) => (i === 2 ? stateStyle(workers[n]!.state) : null)))];
  // A fatal, lost, stopped-by-cpwd or held worker gets its reason under the table, where it cannot
  // be missed; a Claude worker its run's cost, turns and the first line of its result (after a
  // restart or a --resume: which run, and what all its runs cost).
  for (const w of workers) {
    if (w.reason && REASON_STATES.has(w.state)) lines.push(`${w.id}: ${w.reason}`);
    const c = w.claude as ({ costUsd?: number | null; turns?: number | null; isError?: boolean | null; result?: string | null; run?: number; totalCostUsd?: number | null } & RefusalFacts) | null | undefined;
    if (c && (c.costUsd != null || c.result)) {
      const runs = c.run ?? 1;
      const total = runs > 1 && c.totalCostUsd != null ? `$${c.totalCostUsd.toFixed(4)} over ${runs} runs` : null;
      const parts = [c.costUsd != null ? `$${c.costUsd.toFixed(4)}` : null, c.turns != null ? plural(c.turns, "turn") : null, c.isError ? "error" : null, total];
      const first = c.result?.split("\n").find((l) => l.trim() !== "") ?? "";
      const head = `${w.id} claude${runs > 1 ? `, run ${runs}` : ""}: ${parts.filter(Boolean).join(", ")}`;
      const room = Math.max(10, columns - head.length - 3);
      lines.push(first ? `${head}: ${first.length > room ? `${first.slice(0, room - 1)}…` : first}` : head);
    }
    const refused = c ? refusalLine(w, c) : null;
    // Cut to the terminal like the rest: `status --json` has every refused action in full.
    if (refused) lines.push(refused.length > Math.max(60, columns) ? `${refused.slice(0, Math.max(60, columns) - 1)}…` : refused);
  }
  return lines.join("\n");
}
