// `cpwd status`: the daemon (pid, uptime, version, socket, home, events) and its worker table.
// On the fast path: imports only the client and types, never zod or pino.
import type { ResultOf } from "../../src/protocol/rpc-methods.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, requestDaemon } from "../daemon-client.js";
import { formatDuration } from "../format/durations.js";
import { outputColumns } from "../format/columns.js";
import { wantsColour } from "../format/colour.js";
import { formatWorkerTable } from "../format/worker-table.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import { usd, type DaySpend } from "../../src/protocol/spend.js";
import type { NativeWorkView } from "../../src/protocol/native-work.js";
import { join } from "node:path";
import type { BackgroundSessionsView } from "../../src/protocol/native-work.js";
import { CLAUDE_AGENTS_REUSE_MS, claudeBinFor, readBackgroundSessions, saveBackgroundSessions, savedBackgroundSessions } from "../background-sessions.js";
import { formatNativeWork } from "../format/native-work.js";

type Status = ResultOf<"status">;

/**
 * Claude Code's background sessions, read now (`claude agents --json`, at most 1.5 s, once the
 * daemon has answered) and saved, unless a reading was saved in the last CLAUDE_AGENTS_REUSE_MS:
 * then that one is shown with its `atMs`. Claude starts in ~0.35–0.5 s, so a status run again
 * within a few seconds (a script polling every second, `--watch`, a person pressing up-enter)
 * pays it once, not on every call.
 */
async function backgroundSessionsFor(ctx: CliContext, paths: { home: string; config: string }): Promise<BackgroundSessionsView> {
  const file = join(paths.home, "claude-agents.json");
  const fresh = savedBackgroundSessions(file, Date.now(), CLAUDE_AGENTS_REUSE_MS);
  if (fresh) return fresh;
  const view = await readBackgroundSessions(ctx, claudeBinFor(ctx, paths.config));
  saveBackgroundSessions(file, view);
  return view;
}

function renderWorkers(status: Status, ctx: CliContext): string {
  return formatWorkerTable(status.workers as unknown as WorkerView[], outputColumns(ctx.stdout, ctx.env), Date.now(), { colour: wantsColour(ctx.stdout, ctx.env) });
}

/** `  claude   $1.2345 spent today of a $5.00 daily budget`; nothing before any spend or budget. */
function spendLine(s: DaySpend | undefined): string | null {
  if (!s || (s.budgetUsd === null && s.spentUsd === 0)) return null;
  if (s.budgetUsd === null) return `  claude   ${usd(s.spentUsd)} spent today (no daily budget: claudeDailyBudgetUsd)`;
  const reached = s.spentUsd >= s.budgetUsd ? ": reached, Claude workers wait queued until midnight" : "";
  return `  claude   ${usd(s.spentUsd)} spent today of a ${usd(s.budgetUsd)} daily budget${reached}`;
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { json: { kind: "bool" }, watch: { kind: "bool", short: "w" }, all: { kind: "bool", short: "a" } });
  if (positionals.length > 1 || (positionals.length > 0 && flags.watch)) {
    throw usageError(`unexpected argument ${positionals[positionals.length - 1]}`);
  }
  // One worker described (status-describe.ts); the table redrawn until Ctrl-C (status-watch.ts).
  if (positionals.length === 1) return (await import("./status-describe.js")).describeWorkers(positionals[0]!, ctx, { json: flags.json === true });
  if (flags.watch) return (await import("./status-watch.js")).watchStatus(ctx, { json: flags.json === true, render: (frame) => run(flags.json ? ["--json"] : [], frame) });
  const paths = cliPaths(ctx);
  const status = await requestDaemon(paths, "status");
  if (status === null) return statusFromRecord(ctx, flags.json === true);
  // After the reply: with the daemon down there is nothing to show them beside. (`--all` is kept
  // for scripts written when only it and --json read them: every status does now.)
  const background = await backgroundSessionsFor(ctx, paths);
  if (flags.json) {
    writeLine(ctx.stdout, JSON.stringify({ ...status, backgroundSessions: background }));
    return 0;
  }
  const d = status.daemon;
  const lines = [
    `cpwd daemon ${d.version}: running, pid ${d.pid}, up ${formatDuration(d.uptimeMs)}`,
    `  home     ${d.home}`,
    `  socket   ${d.socket}`,
    `  events   ${status.eventCount} (last seq ${status.lastSeq})`,
  ];
  const failure = status.eventLogFailure as { errno: string; since: string } | null | undefined;
  if (failure) {
    lines.push(`  WARNING  the event log cannot be written since ${failure.since} (${failure.errno}${failure.errno === "ENOSPC" ? ": the disk is full" : ""}); requests that must be recorded are refused until it can`);
  }
  const spend = spendLine(status.claudeSpend as DaySpend | undefined);
  if (spend) lines.push(spend);
  lines.push("", renderWorkers(status, ctx));
  // Claude Code's own subagents, teammates and background sessions, under a heading of their own.
  const workerSessions = new Set((status.workers as unknown as WorkerView[]).flatMap((w) => (typeof w.claude?.sessionId === "string" ? [w.claude.sessionId] : [])));
  const native = formatNativeWork(status.native as NativeWorkView | undefined, background, outputColumns(ctx.stdout, ctx.env), Date.now(), workerSessions);
  if (native) lines.push(`\n${native}`);
  // One write: the whole report reaches a pipe or a terminal at once.
  writeLine(ctx.stdout, lines.join("\n"));
  return 0;
};

/** The daemon is down: the worker table as the record on disk has it, and a word on stderr. */
async function statusFromRecord(ctx: CliContext, json: boolean): Promise<number> {
  const paths = cliPaths(ctx);
  writeLine(ctx.stderr, `cpwd status: the daemon is not running (home ${paths.home}); the workers as the record on disk has them`);
  const { readRecordState, recordGapsWarning } = await import("../record-state.js");
  const record = await readRecordState(paths.events);
  const warning = recordGapsWarning("status", record.gaps);
  if (warning) writeLine(ctx.stderr, warning);
  if (json) {
    writeLine(ctx.stdout, JSON.stringify({ daemon: null, home: paths.home, socket: paths.socket, workers: record.workers, lastSeq: record.lastSeq, fromRecord: true }));
    return 0;
  }
  writeLine(ctx.stdout, `cpwd daemon is not running (home ${paths.home}); workers as of seq ${record.lastSeq} in the record`);
  writeLine(ctx.stdout, "");
  writeLine(ctx.stdout, formatWorkerTable(record.workers, outputColumns(ctx.stdout, ctx.env), Date.now(), { colour: wantsColour(ctx.stdout, ctx.env) }));
  return 0;
}
