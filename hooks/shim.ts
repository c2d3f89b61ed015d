#!/usr/bin/env node
// cpwd-hook: the Claude Code hook shim. One short process per hook call: read the hook's JSON
// from stdin, forward it to the daemon as `hook.handle`, print the daemon's reply in Claude Code's
// format. Whatever goes wrong (daemon down or hung, bad stdin), it answers within its time budget,
// records the event in the fallback log, and allows the action (or denies a PreToolUse when
// configured fail-closed). It never prints a stack trace and exits non-zero only to block.
//
// Start-up cost is the point of this file: Node built-ins and three small project modules only.
import { closeSync, mkdirSync, openSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { appendFallback } from "../src/eventlog/fallback.js";
import { DAEMON_NODE_FLAGS, daemonEntryOf } from "../src/platform/daemon-launch.js";
import { currentPathEnv, resolvePaths, type CpwdPaths } from "../src/platform/paths.js";
import { isHookInput, salvageHookInput, slimHookInput, summarizeHook, type HookInput, type HookReply } from "../src/protocol/hooks.js";
import { oneshot } from "../src/rpc/oneshot.js";
import { readShimSettings, type ShimSettings } from "./shim-settings.js";

/** Largest hook payload read from stdin; more is refused (fail-open). */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;
/** Time kept back from the budget for the fallback write and exit. */
const MARGIN_MS = 60;
/** The backstop fires this long before the budget ends (after the request's own deadline). */
const BACKSTOP_MARGIN_MS = 15;

const started = Date.now();

/** How much of an oversized input is kept to salvage the fields cpwd needs (see salvageHookInput). */
const HEAD_BYTES = 64 * 1024;

/** Reads stdin up to the limit or the deadline; past the limit, only its head is returned. */
function readStdin(deadlineMs: number): Promise<{ text: string } | { error: string; head?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      // Left open, stdin would keep this process alive after it has answered.
      process.stdin.destroy();
      resolve({ error: "stdin not closed in time" });
    }, deadlineMs);
    process.stdin.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_STDIN_BYTES) {
        clearTimeout(timer);
        process.stdin.destroy();
        const head = Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString("utf8");
        resolve({ error: `hook input larger than ${MAX_STDIN_BYTES} bytes`, head });
      } else chunks.push(c);
    });
    process.stdin.once("end", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("utf8") });
    });
    process.stdin.once("error", () => {
      clearTimeout(timer);
      resolve({ error: "stdin unreadable" });
    });
  });
}

/** Prints Claude Code's JSON reply and exits 0. */
function answer(output: Record<string, unknown> | undefined): void {
  if (output) process.stdout.write(`${JSON.stringify(output)}\n`);
  process.exitCode = 0;
}

/** The reply when the daemon could not decide: allow, or deny a PreToolUse when fail-closed. */
function fallbackAnswer(input: HookInput | null, settings: ShimSettings, why: string): void {
  if (settings.failClosed && input?.hook_event_name === "PreToolUse") {
    answer({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: "deny",
        permissionDecisionReason: `cpwd could not check this action (${why}) and is configured fail-closed; run \`cpwd start\` or \`cpwd status\``,
      },
    });
  } else answer(undefined);
}

/**
 * Starts the daemon detached, at most once per 10 s across concurrent shims. Never waits for it.
 * node:child_process is imported here, not at the top: only this rare path pays its ~2 ms.
 */
async function autostart(paths: CpwdPaths): Promise<void> {
  const stamp = join(paths.home, "autostart.stamp");
  try {
    if (Date.now() - statSync(stamp).mtimeMs < 10_000) return;
  } catch {
    // no stamp yet
  }
  try {
    writeFileSync(stamp, String(process.pid), { mode: 0o600 });
    // dist/hooks/shim.js → dist/daemon/main.js: the daemon as `cpwd start` runs it (its flags, its
    // own entry), not through the CLI.
    const daemon = daemonEntryOf(fileURLToPath(import.meta.url));
    const { spawn } = await import("node:child_process");
    const log = openSync(paths.daemonLog, "a", 0o600);
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, daemon], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, CPWD_HOME: paths.home },
      cwd: paths.home,
    });
    closeSync(log);
    child.on("error", () => {});
    child.unref();
  } catch {
    // best effort: the next hook call tries again after the stamp ages
  }
}

/** Records the hook event for the daemon to ingest later. Never throws. */
function recordFallback(paths: CpwdPaths, input: HookInput | null, decision: string, why: string): void {
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
    const worker = process.env.CPWD_WORKER_ID;
    appendFallback(paths.fallback, {
      type: `hook.${input?.hook_event_name ?? "invalid"}`,
      ...(input?.session_id ? { session: input.session_id } : {}),
      ...(worker ? { worker } : {}),
      payload: { ...(input ? summarizeHook(input) : {}), decision, daemonDown: true, why, durationMs: Date.now() - started },
    });
  } catch {
    // the home may not exist yet or the disk is full: the hook still answers
  }
}

async function main(): Promise<void> {
  const paths = resolvePaths(currentPathEnv());
  const settings = readShimSettings(paths.config, process.env);
  const deadline = started + settings.budgetMs - MARGIN_MS;
  let input: HookInput | null = null;
  // The backstop: whatever hangs, answer before Claude Code's own timeout.
  const backstop = setTimeout(() => {
    recordFallback(paths, input, settings.failClosed && input?.hook_event_name === "PreToolUse" ? "deny" : "allow", "time budget spent");
    fallbackAnswer(input, settings, "time budget spent");
    process.exit(0);
  }, Math.max(1, started + settings.budgetMs - BACKSTOP_MARGIN_MS - Date.now()));

  const stdin = await readStdin(Math.max(1, deadline - Date.now()));
  if ("text" in stdin) {
    try {
      const parsed: unknown = JSON.parse(stdin.text);
      if (isHookInput(parsed)) input = parsed;
    } catch {
      // handled below as bad input
    }
  }
  // Too large to take whole (a Write of a huge file): what cpwd needs is at its start.
  if (!input && "head" in stdin && stdin.head) input = salvageHookInput(stdin.head);
  if (!input) {
    const why = "error" in stdin ? stdin.error : "hook input is not a JSON object with hook_event_name";
    recordFallback(paths, null, "allow", why);
    clearTimeout(backstop);
    return fallbackAnswer(null, { ...settings, failClosed: false }, why);
  }

  const workerId = process.env.CPWD_WORKER_ID;
  const params = { event: slimHookInput(input), ...(workerId ? { workerId } : {}) };
  const r = await oneshot(paths.socket, "hook.handle", params, Math.max(1, deadline - Date.now()));
  clearTimeout(backstop);
  if (r.ok) return answer((r.result as HookReply | null)?.output);
  const why = r.kind === "down" ? "daemon not running" : r.kind === "timeout" ? "daemon did not answer in time" : r.message;
  const denies = settings.failClosed && input.hook_event_name === "PreToolUse";
  recordFallback(paths, input, denies ? "deny" : "allow", why);
  if (r.kind === "down" && settings.autostart) await autostart(paths);
  fallbackAnswer(input, settings, why);
}

main().catch(() => {
  // A bug here must not break the session: allow, quietly.
  process.exitCode = 0;
});
