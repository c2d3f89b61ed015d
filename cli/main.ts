#!/usr/bin/env node
// The `cpwd` command: picks the subcommand and loads only its module, so a fast command such as
// `status` never pays for what another one imports (zod, pino, the daemon).
import { fileURLToPath } from "node:url";
import { isProcessEntry } from "../src/platform/entry-point.js";
import { isUsageError } from "./args.js";
import { CLAUDE_USAGE, MCP_USAGE, SPAWN_USAGE } from "./usage.js";
import type { CliContext, Command } from "./context.js";

type Loader = () => Promise<{ run: Command }>;

/**
 * Subcommand → its module, a one-line summary and its usage. Every module exports `run`. `--help`
 * (or `-h`) before any `--` prints the usage here, except for the commands that print a fuller help
 * of their own (`own: true`).
 */
const COMMANDS: Record<string, { load: Loader; summary: string; usage: string; own?: boolean }> = {
  daemon: { load: () => import("./commands/daemon.js"), summary: "run the daemon in the foreground", usage: "cpwd daemon" },
  start: { load: () => import("./commands/start.js"), summary: "start the daemon in the background", usage: "cpwd start" },
  stop: { load: () => import("./commands/stop.js"), summary: "stop the daemon, or `stop W3|NAME|all` a worker", usage: "cpwd stop               stop the daemon (workers keep running)\n       cpwd stop W3|NAME|all [--grace 10s]" },
  status: { load: () => import("./commands/status.js"), summary: "the daemon and its workers with CPU and memory (--json); --watch redraws it; W3 or a name describes one worker", usage: "cpwd status [--json] [--watch|-w]    (with Claude Code's own subagents, teammates and background sessions; with the daemon down, the workers as the record has them) · cpwd status W3|NAME [--json]    (read from the record when it is not)" },
  spawn: { load: () => import("./commands/worker-spawn.js"), summary: "start a worker: spawn [options] -- COMMAND [ARGS…]", usage: SPAWN_USAGE.replace(/^usage: /, "") },
  claude: { load: () => import("./commands/worker-claude.js"), summary: "start a Claude worker: claude [options] \"PROMPT\"", usage: CLAUDE_USAGE.replace(/^usage: /, "") },
  kill: { load: () => import("./commands/worker-control.js").then((m) => ({ run: m.kill })), summary: "SIGKILL a worker's process group", usage: "cpwd kill W3|NAME|all" },
  restart: { load: () => import("./commands/worker-control.js").then((m) => ({ run: m.restart })), summary: "restart a worker", usage: "cpwd restart W3|NAME|all" },
  rm: { load: () => import("./commands/worker-control.js").then((m) => ({ run: m.rm })), summary: "forget an ended worker (--force stops it first)", usage: "cpwd rm W3|NAME|all [--force|-f]" },
  logs: { load: () => import("./commands/worker-logs.js"), summary: "workers' output, stdout and stderr in order (several merged): logs W3|all [-f] [-n 100] [-t]", usage: "cpwd logs W3|NAME|all [W4…] [--follow|-f] [--stdout|--stderr|--both] [--lines|-n 100] [--raw] [--timestamps|-t]\n  -f exits when every worker has ended: 0 all exited 0, 4 failed, 5 timed out, 6 stopped or removed, 7 fatal (the largest); 3 the daemon stopped first, 130 interrupted" },
  diff: { load: () => import("./commands/worker-diff.js"), summary: "a --worktree worker's changes since it started (--stat)", usage: "cpwd diff W3|NAME [--stat]    (no daemon needed)" },
  merge: { load: () => import("./commands/worker-merge.js"), summary: "merge a --worktree worker's branch into your checkout", usage: "cpwd merge W3|NAME [--commit]    (--commit: commit what it left uncommitted first)" },
  replay: { load: () => import("./commands/worker-replay.js"), summary: "the worker table at any seq, from events.jsonl alone", usage: "cpwd replay [--at SEQ] [--json]    (no daemon needed)" },
  gc: { load: () => import("./commands/gc.js"), summary: "free the disk: removed workers' folders, and the record's segments past the retention", usage: "cpwd gc [--dry-run|-n]    (says what it freed; safe beside a running daemon)" },
  claims: { load: () => import("./commands/claims.js"), summary: "files held by workers (--json)", usage: "cpwd claims [--json]    (read from the record when the daemon is down)" },
  release: { load: () => import("./commands/release.js"), summary: "release a claimed file, or all of a worker's", usage: "cpwd release PATH|W3" },
  events: {
    load: () => import("./commands/events.js"),
    summary: "the record: the last 20 events (-n N), or --from SEQ; --follow streams new ones (no daemon needed to read)",
    usage: "cpwd events [-n 20 | --from SEQ [--limit 100]] [--follow|-f] [--type TYPE|PREFIX.|GLOB*] [--worker W3|NAME] [--session ID] [--json]",
  },
  ui: { load: () => import("./commands/ui.js"), summary: "a live web page of workers, their runs and the record (loopback, token in the URL)", usage: "cpwd ui [--port P]    (prints the page's URL; Ctrl-C stops)" },
  mcp: { load: () => import("./commands/mcp.js"), summary: "serve cpwd's tools to Claude Code over stdio (MCP; `hooks install` registers it)", usage: MCP_USAGE },
  hooks: { load: () => import("./commands/hooks.js"), summary: "register cpwd with Claude Code: install|uninstall|status [--scope project|local|user]", usage: "cpwd hooks --help", own: true },
  service: { load: () => import("./commands/service.js"), summary: "start the daemon at login: install|uninstall|status [--dry-run]", usage: "cpwd service --help", own: true },
  doctor: { load: () => import("./commands/doctor.js"), summary: "check the set-up and say how to fix what is wrong (--json)", usage: "cpwd doctor [--json] [--dir DIR]    (exit 1 when a check fails; no daemon needed)" },
  apply: { load: () => import("./commands/apply.js"), summary: "start, keep or restart the workers cpwd.json lists (--prune, --dry-run)", usage: "cpwd apply [FILE] [--prune] [--dry-run|-n]    (FILE: cpwd.json or .cpwd.json here or in a folder above; docs/workers.md)" },
  config: { load: () => import("./commands/config.js"), summary: "read or change config.json: get [KEY] | set KEY VALUE | unset KEY", usage: "cpwd config get [KEY]        the effective value (defaults included); all of them as JSON without KEY\n       cpwd config set KEY VALUE    VALUE as JSON when it parses (8, true, null), else as a string\n       cpwd config unset KEY        back to the default" },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: cpwd <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

/** Runs one CLI invocation and resolves with its exit code. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    ctx.stderr.write(usage());
    return 2;
  }
  if (name === "help" || name === "--help" || name === "-h") {
    // `cpwd help spawn` is `cpwd spawn --help`.
    const topic = rest[0];
    if (topic === undefined) {
      ctx.stdout.write(usage());
      return 0;
    }
    if (!COMMANDS[topic]) {
      ctx.stderr.write(`cpwd help: unknown command '${topic}'\n${usage()}`);
      return 2;
    }
    return main([topic, "--help"], ctx);
  }
  if (name === "--version" || name === "-v") {
    const { readVersion } = await import("../src/platform/version.js");
    ctx.stdout.write(`${readVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    ctx.stderr.write(`cpwd: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (!command.own && (options.includes("--help") || options.includes("-h"))) {
    ctx.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  const mod = await command.load();
  try {
    return await mod.run(rest, ctx);
  } catch (err) {
    // A bad argument found by a command's parser: say which command, exit 2 like other usage errors.
    const usageError = await asUsageError(err);
    if (!usageError) throw err;
    ctx.stderr.write(`cpwd ${name}: ${usageError.message}\nusage: ${command.usage}\n`);
    return 2;
  }
}

/**
 * `err` when it is a usage error thrown by any command, else null. In the CommonJS bundle (dist/cli/main.cjs) `status` throws
 * the bundle's own CpwdError while the commands it loads with `import()` are ES modules throwing
 * tsc's: an `instanceof` against one class misses the other's, so both copies of args.js are asked.
 */
async function asUsageError(err: unknown): Promise<Error | null> {
  return isUsageError(err) || (await import("./args.js")).isUsageError(err) ? (err as Error) : null;
}

if (isProcessEntry(import.meta.url)) {
  // A reader that goes away early (`cpwd replay | head -1`) is not an error: stop quietly, as a
  // Unix tool killed by SIGPIPE would (Node ignores SIGPIPE and reports EPIPE instead).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  }
  const ctx: CliContext = {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    cliScript: fileURLToPath(import.meta.url),
    nodePath: process.execPath,
  };
  main(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      process.stderr.write(`cpwd: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ""}\n`);
      if (process.env.CPWD_DEBUG) process.stderr.write(`${(err as Error).stack ?? ""}\n`);
      process.exitCode = 1;
    },
  );
}
