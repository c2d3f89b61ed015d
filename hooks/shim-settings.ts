// The few settings the shim needs, read from config.json without zod (which would cost ~40 ms of
// start-up on every tool call). A field of the wrong type falls back to its default; the daemon
// validates the same file strictly when it starts, so a typo is reported there.
import { readFileSync } from "node:fs";

export interface ShimSettings {
  /** Total time the shim may take, ms. @default 1000 */
  budgetMs: number;
  /** Deny PreToolUse when the daemon is unreachable. @default false */
  failClosed: boolean;
  /** Start the daemon (detached) when it is down. @default true */
  autostart: boolean;
}

export function readShimSettings(configFile: string, env: NodeJS.ProcessEnv): ShimSettings {
  const s: ShimSettings = { budgetMs: 1000, failClosed: false, autostart: true };
  try {
    const raw = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    if (typeof raw.hookBudgetMs === "number" && raw.hookBudgetMs >= 50 && raw.hookBudgetMs <= 30_000) s.budgetMs = raw.hookBudgetMs;
    if (typeof raw.hookFailClosed === "boolean") s.failClosed = raw.hookFailClosed;
    if (typeof raw.autostart === "boolean") s.autostart = raw.autostart;
  } catch {
    // absent or unreadable: defaults
  }
  const envBudget = Number(env.CPWD_HOOK_BUDGET_MS);
  // Same bounds as config.json's hookBudgetMs: the installer's hook timeout covers at most 30 s.
  if (Number.isFinite(envBudget) && envBudget >= 50) s.budgetMs = Math.min(envBudget, 30_000);
  if (env.CPWD_HOOK_FAIL_CLOSED === "1") s.failClosed = true;
  if (env.CPWD_AUTOSTART === "0") s.autostart = false;
  return s;
}
