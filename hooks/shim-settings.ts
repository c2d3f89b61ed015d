// The few settings the shim needs, read from config.json without zod (which would cost ~40 ms of
// start-up on every tool call). A field of the wrong type falls back to its default; the daemon
// validates the same file strictly when it starts, so a typo is reported there.
import { readFileSync } from "node:fs";
import { HOOK_BUDGET_MS } from "../src/protocol/hooks.js";

export interface ShimSettings {
  /** Total time the shim may take, ms. @default 1000 */
  budgetMs: number;
  /** Deny PreToolUse when the daemon is unreachable. @default false */
  failClosed: boolean;
  /** Start the daemon (detached) when it is down. @default true */
  autostart: boolean;
}

export function readShimSettings(configFile: string, env: NodeJS.ProcessEnv): ShimSettings {
  const s: ShimSettings = { budgetMs: HOOK_BUDGET_MS.default, failClosed: false, autostart: true };
  try {
    const raw = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    if (typeof raw.hookBudgetMs === "number" && raw.hookBudgetMs >= HOOK_BUDGET_MS.min && raw.hookBudgetMs <= HOOK_BUDGET_MS.max) s.budgetMs = raw.hookBudgetMs;
    if (typeof raw.hookFailClosed === "boolean") s.failClosed = raw.hookFailClosed;
    if (typeof raw.autostart === "boolean") s.autostart = raw.autostart;
  } catch {
    // absent or unreadable: defaults
  }
  const envBudget = Number(env.CPWD_HOOK_BUDGET_MS);
  // Same bounds as config.json's hookBudgetMs: the installer's hook timeout covers at most the max.
  if (Number.isFinite(envBudget) && envBudget >= HOOK_BUDGET_MS.min) s.budgetMs = Math.min(envBudget, HOOK_BUDGET_MS.max);
  if (env.CPWD_HOOK_FAIL_CLOSED === "1") s.failClosed = true;
  if (env.CPWD_AUTOSTART === "0") s.autostart = false;
  return s;
}
