// Money: a Claude worker's cost limit per run (`cpwd claude --max-cost`, kept as meta.maxCostUsd and
// passed to Claude Code as --max-budget-usd), and the daily budget of all Claude workers together
// (config `claudeDailyBudgetUsd`), which holds new runs in the queue once today's spend reaches it.
// Pure: costs, meta and times in, verdicts out.
import { usd, type DaySpend } from "../../src/protocol/spend.js";
import type { WorkerRecord } from "../../src/workers/machine.js";
import type { StartGate } from "../supervisor/ready-queue.js";

/** Claude Code's result subtype for a run it ended at its --max-budget-usd. */
export const BUDGET_SUBTYPE = "error_max_budget_usd";

/** A worker's per-run cost limit from its meta, if it has one. */
export function maxCostOf(meta: Record<string, unknown>): number | null {
  const v = meta.maxCostUsd;
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * Why a run is over its cost limit, or null: its reported cost passed `limitUsd`, or Claude Code
 * itself ended it at its budget flag.
 */
export function overLimitReason(run: { costUsd: number | null; subtype: string | null }, limitUsd: number | null): string | null {
  const spent = run.costUsd === null ? "" : `${usd(run.costUsd)} spent`;
  if (limitUsd !== null && run.costUsd !== null && run.costUsd > limitUsd) return `over its cost limit: ${spent}, --max-cost ${usd(limitUsd)}`;
  if (run.subtype === BUDGET_SUBTYPE) {
    const facts = [spent, limitUsd !== null ? `--max-cost ${usd(limitUsd)}` : ""].filter(Boolean).join(", ");
    return `over its cost limit: Claude Code stopped at its budget${facts ? ` (${facts})` : ""}`;
  }
  return null;
}

/** Local midnight at the start of the day `ms` falls in. */
export function startOfDayMs(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The next local midnight after `ms`. */
export function nextMidnightMs(ms: number): number {
  const d = new Date(startOfDayMs(ms));
  d.setDate(d.getDate() + 1);
  return d.getTime();
}

/**
 * The daily budget as the ready queue's start gate: once what Claude runs reported today (local
 * day) reaches `budgetUsd`, a Claude worker's start waits, with the reason, until midnight.
 * Other workers are never held.
 */
export class DailyBudget implements StartGate {
  constructor(
    private readonly budgetUsd: number | null,
    /** What all runs reported since a time cost, USD. */
    private readonly spentSince: (sinceMs: number) => number,
  ) {}

  today(nowMs: number): DaySpend {
    return { spentUsd: this.spentSince(startOfDayMs(nowMs)), budgetUsd: this.budgetUsd };
  }

  holdReason(w: WorkerRecord, nowMs: number): string | null {
    if (this.budgetUsd === null || w.meta.kind !== "claude") return null;
    const { spentUsd } = this.today(nowMs);
    if (spentUsd < this.budgetUsd) return null;
    return `waiting: today's Claude spend ${usd(spentUsd)} has reached the daily budget ${usd(this.budgetUsd)} (claudeDailyBudgetUsd); it starts after midnight`;
  }

  recheckAtMs(nowMs: number): number {
    return nextMidnightMs(nowMs);
  }
}
