// The part of `cpwd status` under cpwd's worker table that shows Claude Code's own parallel work:
// subagents and teammates (from its hooks) and background sessions (`claude agents --json`),
// headed so nobody takes them for cpwd's workers. Types only from the protocol: no zod here.
import type { BackgroundSession, BackgroundSessionsView, NativeSubagentView, NativeTeammateView, NativeWorkView } from "../../src/protocol/native-work.js";
import { plural } from "../../src/protocol/plural.js";
import { formatDuration } from "./durations.js";

/** A running subagent whose session has made no hook call for this long is marked silent. */
const SILENT_AFTER_MS = 30 * 60_000;

const since = (iso: string | null, nowMs: number): number | null => (iso === null ? null : Math.max(0, nowMs - Date.parse(iso)));
const quoted = (s: string | null): string => (s ? ` "${s}"` : "");

/** The SESSION cell: the cpwd worker whose session it is, else the session id's first 8 characters. */
function sessionCell(v: { session: string; worker?: string }): string {
  return v.worker ?? v.session.slice(0, 8);
}

function subagentRow(a: NativeSubagentView, nowMs: number): string[] {
  const what = `${a.agentType ?? "subagent"}${quoted(a.description)}${a.background ? " (background)" : ""}`;
  const silent = since(a.lastSeenAt, nowMs)!;
  const state =
    a.state === "running"
      ? silent > SILENT_AFTER_MS
        ? `running? (session silent ${formatDuration(silent)})`
        : "running"
      : a.endReason && a.endReason !== "finished"
        ? `ended (${a.endReason})`
        : `ended ${formatDuration(since(a.endedAt, nowMs)!)} ago`;
  const ran = a.startedAt === null ? null : a.state === "running" ? since(a.startedAt, nowMs) : Date.parse(a.endedAt!) - Date.parse(a.startedAt);
  return [sessionCell(a), "subagent", state, ran === null ? "-" : formatDuration(ran), what];
}

function teammateRow(t: NativeTeammateView, nowMs: number): string[] {
  const tasks = [t.tasksCompleted > 0 ? `${plural(t.tasksCompleted, "task")} done` : "", t.lastTask ? `last "${t.lastTask}"` : ""].filter(Boolean).join(", ");
  const what = `${t.name}${t.team ? ` (team ${t.team})` : ""}${tasks ? `: ${tasks}` : ""}`;
  return [sessionCell(t), "teammate", t.state, formatDuration(since(t.since, nowMs)!), what];
}

function backgroundRow(b: BackgroundSession, nowMs: number): string[] {
  const ran = since(b.startedAt, nowMs);
  const what = `${b.id ?? ""}${quoted(b.name)}${b.cwd ? ` in ${b.cwd}` : ""}`.trim();
  return [(b.sessionId ?? b.id ?? "-").slice(0, 8), "background", b.state ?? "-", ran === null ? "-" : formatDuration(ran), what];
}

/**
 * The section, for a terminal `columns` wide: a heading, one row per subagent, teammate and
 * background session, a count of the other sessions `claude agents` lists (less `cpwdSessions`,
 * the sessions of cpwd's own Claude workers, shown in the table above), then the note when
 * `claude agents` could not be read. "" when there is nothing to say.
 */
export function formatNativeWork(
  native: NativeWorkView | undefined,
  background: BackgroundSessionsView | undefined,
  columns: number,
  nowMs: number,
  cpwdSessions: ReadonlySet<string> = new Set(),
): string {
  const sessions = (background?.sessions ?? []).filter((b) => b.sessionId === null || !cpwdSessions.has(b.sessionId));
  const bg = sessions.filter((b) => b.kind === "background");
  const interactive = sessions.length - bg.length;
  const rows = [
    ...(native?.subagents ?? []).map((a) => subagentRow(a, nowMs)),
    ...(native?.teammates ?? []).map((t) => teammateRow(t, nowMs)),
    ...bg.map((b) => backgroundRow(b, nowMs)),
  ];
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push("Claude Code's own (not cpwd workers: Claude Code runs and stops them):");
    const head = ["SESSION", "KIND", "STATE", "TIME", "WHAT"];
    const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const room = Math.max(10, columns - 2 - widths.reduce((a, b) => a + b + 2, 0));
    for (const r of [head, ...rows]) {
      const what = r[r.length - 1]!;
      lines.push(`  ${r.slice(0, -1).map((c, i) => c.padEnd(widths[i]!)).join("  ")}  ${what.length > room ? `${what.slice(0, room - 1)}…` : what}`.trimEnd());
    }
  }
  if (interactive > 0) lines.push(`${plural(interactive, "interactive Claude Code session")} open (\`claude agents\` lists them)`);
  if (background?.note) lines.push(background.note);
  return lines.join("\n");
}
