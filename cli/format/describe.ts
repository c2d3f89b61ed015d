// `cpwd status W3`: one worker described, as `pm2 describe` does — what it runs and under which
// policy, where its logs are, what it holds, its Claude session and cost, then every run with its
// start, end, how it ended and what followed. Pure: the command gathers, this renders.
import { plural } from "../../src/protocol/plural.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import type { WorkerHistory, WorkerRun } from "../../src/workers/runs.js";
import { paint, stateStyle } from "./colour.js";
import { formatDuration } from "./durations.js";
import { formatCpu, formatRss } from "./process-usage.js";

/** Everything `cpwd status W3` shows of one worker. */
export interface WorkerDescription {
  view: WorkerView;
  history: WorkerHistory;
  /** Files it holds (the daemon's claims); null when the daemon could not be asked. */
  claims: Array<{ path: string; heldMs: number }> | null;
  /** `output`: both streams in order with times (the output mux's), null when the worker has none. */
  logs: { stdout: string; stderr: string; output: string | null };
}

export interface DescribeOptions {
  nowMs: number;
  colour?: boolean;
  /** Runs shown at most (the latest); `--json` has them all. @default 100 */
  maxRuns?: number;
}

/** A time as a run shows it: HH:MM:SS today, with the date otherwise (local time). */
export function formatClock(iso: string | null, nowMs: number): string {
  if (iso === null) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "-";
  const p = (n: number) => String(n).padStart(2, "0");
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const now = new Date(nowMs);
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

/** How a run ended: "exit 0", "exit 1 (failed)", "SIGTERM (stopped)", "timed out", "running". */
export function runEnd(r: WorkerRun, current: boolean, state: string): string {
  if (r.state === null) return current ? state : "interrupted";
  if (r.state === "failed" && r.startedAt === null) return "launch failed";
  const how = r.signal ?? (r.exitCode !== null ? `exit ${r.exitCode}` : "");
  if (r.state === "timed_out") return how ? `timed out (${how})` : "timed out";
  if (r.state === "exited") return how || "exited";
  return how ? `${how} (${r.state})` : r.state;
}

function policyLine(spec: Record<string, unknown> | null): string {
  const r = spec?.restart as { mode?: string; maxRestarts?: number; windowMs?: number; backoffBaseMs?: number; backoffMaxMs?: number; minUptimeMs?: number } | undefined;
  if (!r?.mode) return "-";
  if (r.mode === "never") return "never";
  const d = (ms: number | undefined) => (ms === undefined ? "?" : formatDuration(ms));
  return `${r.mode}: at most ${r.maxRestarts === undefined ? "? restarts" : plural(r.maxRestarts, "restart")} in ${d(r.windowMs)}, backoff ${d(r.backoffBaseMs)}..${d(r.backoffMaxMs)}, a run of ${d(r.minUptimeMs)} counts as healthy`;
}

function timeoutLine(spec: Record<string, unknown> | null): string {
  const timeout = typeof spec?.timeoutMs === "number" ? formatDuration(spec.timeoutMs) : "none";
  const grace = typeof spec?.graceMs === "number" ? `, grace ${formatDuration(spec.graceMs)} (SIGTERM → SIGKILL)` : "";
  return `${timeout}${grace}`;
}

const usd = (v: unknown) => (typeof v === "number" ? `$${v.toFixed(4)}` : null);

function claudeLine(view: WorkerView): string | null {
  const c = view.claude as { sessionId?: string | null; model?: string | null; run?: number; costUsd?: number | null; totalCostUsd?: number | null; turns?: number | null } | null | undefined;
  if (!c) return null;
  const runs = c.run ?? 1;
  const parts = [
    c.sessionId ? `session ${c.sessionId}` : "no session yet",
    c.model ? `model ${c.model}` : null,
    runs > 1 ? `run ${runs}` : null,
    usd(c.costUsd) ? `${usd(c.costUsd)} this run` : null,
    runs > 1 && usd(c.totalCostUsd) ? `${usd(c.totalCostUsd)} over ${runs} runs` : null,
  ];
  return parts.filter(Boolean).join(", ");
}

function runClaude(r: WorkerRun): string {
  const c = r.claude;
  if (!c) return "";
  const parts = [usd(c.costUsd), c.turns !== null ? plural(c.turns, "turn") : null, c.isError ? (c.subtype ?? "error") : null, c.sessionId ? `session ${c.sessionId.slice(0, 8)}` : null];
  return parts.filter(Boolean).join(", ");
}

/** Restarts as RESTARTS counts them (the policy's and the user's), each kind, and the runs. */
function restartsLine(h: WorkerHistory): string {
  return `${h.restarts} (${h.restarts - h.userRestarts} by the restart policy, ${h.userRestarts} by \`cpwd restart\`), ${plural(h.runs.length, "run")} in all`;
}

/** Cells padded to their column's width, the last one left as it is. */
function table(rows: string[][], colour: boolean, styleOf: (row: number, col: number) => ReturnType<typeof stateStyle> | "bold"): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, n) => r.map((c, i) => paint(colour, styleOf(n, i), i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
}

/** The runs, oldest first, as a table (the latest `max` of them). */
function runLines(d: WorkerDescription, opts: DescribeOptions): string[] {
  const { runs } = d.history;
  if (runs.length === 0) return ["runs: none yet"];
  const max = opts.maxRuns ?? 100;
  const shown = runs.slice(-max);
  const claude = shown.some((r) => r.claude !== null);
  const head = ["RUN", "CAUSE", "STARTED", "ENDED", "TIME", "PID", "END", ...(claude ? ["CLAUDE"] : []), "REASON / THEN"];
  const rows = shown.map((r) => {
    const current = r === runs[runs.length - 1];
    const runMs = r.runMs ?? (current && r.state === null && r.startedAt ? Math.max(0, opts.nowMs - Date.parse(r.startedAt)) : null);
    const after = [r.reason, r.then ? `→ ${r.then}` : null].filter(Boolean).join(" ");
    return [String(r.number), r.cause, formatClock(r.startedAt ?? r.launchedAt, opts.nowMs), formatClock(r.endedAt, opts.nowMs), runMs === null ? "-" : formatDuration(runMs), r.pid === null ? "-" : String(r.pid), runEnd(r, current, d.view.state), ...(claude ? [runClaude(r) || "-"] : []), after || "-"];
  });
  const endCol = 6;
  const styles = shown.map((r) => (r.state === null ? "green" : stateStyle(r.state)));
  const lines = table([head, ...rows], opts.colour === true, (n, i) => (n === 0 ? "bold" : i === endCol ? styles[n - 1]! : null));
  const earlier = runs.length - shown.length;
  return earlier > 0 ? [`(${plural(earlier, "earlier run")} not shown; --json has them all)`, ...lines] : lines;
}

/** The description, lines joined. */
export function formatDescription(d: WorkerDescription, opts: DescribeOptions): string {
  const v = d.view;
  const colour = opts.colour === true;
  const live = v.pid !== null ? [`pid ${v.pid}`, v.runMs !== null ? `up ${formatDuration(v.runMs)}` : null, v.usage ? `CPU ${formatCpu(v.usage)}, MEM ${formatRss(v.usage)} (${plural(v.usage.processes, "process", "processes")})` : null] : [];
  const head = [paint(colour, "bold", v.id), v.name ?? "", paint(colour, stateStyle(v.state), v.state)].filter(Boolean).join("  ");
  const lines = [[head, live.filter(Boolean).join(", ")].filter(Boolean).join("  ")];
  const field = (name: string, value: string) => lines.push(`  ${name.padEnd(9)} ${value}`);
  field("command", v.command.map((a) => (/[\s"'$`\\]/.test(a) ? JSON.stringify(a) : a)).join(" "));
  field("cwd", v.cwd);
  if (v.reason) field("reason", v.reason);
  field("restart", policyLine(d.history.spec));
  field("timeout", timeoutLine(d.history.spec));
  field("restarts", restartsLine(d.history));
  if (d.history.envCount !== null) field("env", `${plural(d.history.envCount, "variable")} (the spawning shell's and --env; kept in the worker's folder only: spec.json, launch.sh)`);
  field("logs", d.logs.stdout);
  lines.push(`  ${"".padEnd(9)} ${d.logs.stderr}`);
  if (d.logs.output) lines.push(`  ${"".padEnd(9)} ${d.logs.output} (both, in order; \`cpwd logs\`)`);
  if (d.claims === null) field("claims", "- (the daemon is not running)");
  else if (d.claims.length === 0) field("claims", "none");
  else d.claims.forEach((c, i) => (i === 0 ? field("claims", `${c.path} (${formatDuration(c.heldMs)})`) : lines.push(`  ${"".padEnd(9)} ${c.path} (${formatDuration(c.heldMs)})`)));
  const claude = claudeLine(v);
  if (claude) field("claude", claude);
  if (Object.keys(v.meta).length > 0) {
    const meta = JSON.stringify(v.meta);
    field("meta", meta.length > 200 ? `${meta.slice(0, 199)}…` : meta);
  }
  lines.push("", ...runLines(d, opts));
  return lines.join("\n");
}
