// The few settings the shim needs, read from config.json without zod (which would cost ~40 ms of
// start-up on every tool call). Each is a field of ConfigSchema (src/platform/config.ts), checked
// here with the schema's own bounds; test/unit/shim-settings.test.ts keeps the two in step. A field
// of the wrong type falls back to its default: the daemon validates the same file strictly when it
// starts, so a typo is reported there.
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

/** The config.json field each setting comes from. */
export const SHIM_CONFIG_FIELDS = {
  budgetMs: "hookBudgetMs",
  failClosed: "hookFailClosed",
  autostart: "autostart",
} as const satisfies Record<keyof ShimSettings, string>;

/** The settings when config.json and the environment say nothing. */
export const SHIM_DEFAULTS: Readonly<ShimSettings> = { budgetMs: HOOK_BUDGET_MS.default, failClosed: false, autostart: true };

/** A budget the schema accepts: whole ms within HOOK_BUDGET_MS. */
function isBudgetMs(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= HOOK_BUDGET_MS.min && (value as number) <= HOOK_BUDGET_MS.max;
}

/** config.json as an object; empty when it is absent, unreadable or not a JSON object (also for the CLI's fast paths). */
export function readConfigObject(configFile: string): Record<string, unknown> {
  try {
    const raw: unknown = JSON.parse(readFileSync(configFile, "utf8"));
    return typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The shim's settings: config.json's fields, then the CPWD_HOOK_* / CPWD_AUTOSTART overrides. */
export function readShimSettings(configFile: string, env: NodeJS.ProcessEnv): ShimSettings {
  const s: ShimSettings = { ...SHIM_DEFAULTS };
  const raw = readConfigObject(configFile);
  const budgetMs = raw[SHIM_CONFIG_FIELDS.budgetMs];
  const failClosed = raw[SHIM_CONFIG_FIELDS.failClosed];
  const autostart = raw[SHIM_CONFIG_FIELDS.autostart];
  if (isBudgetMs(budgetMs)) s.budgetMs = budgetMs;
  if (typeof failClosed === "boolean") s.failClosed = failClosed;
  if (typeof autostart === "boolean") s.autostart = autostart;
  const envBudget = Number(env.CPWD_HOOK_BUDGET_MS);
  // Same bounds as config.json's hookBudgetMs: the installer's hook timeout covers at most the max.
  if (Number.isFinite(envBudget) && envBudget >= HOOK_BUDGET_MS.min) s.budgetMs = Math.min(envBudget, HOOK_BUDGET_MS.max);
  if (env.CPWD_HOOK_FAIL_CLOSED === "1") s.failClosed = true;
  if (env.CPWD_AUTOSTART === "0") s.autostart = false;
  return s;
}
