// The daemon: becomes the one instance for its home, recovers and opens the event log, replays
// state, ingests the fallback log, serves JSON-RPC on the socket, and shuts down gracefully on
// SIGTERM/SIGINT or `daemon.shutdown`. Workers are never stopped by a daemon shutdown.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { loadConfig } from "../src/platform/config.js";
import { SecretMask } from "../src/protocol/secret-mask.js";
import { readWorkerSpecEnv } from "../src/records/worker-files.js";
import type { EventLog } from "../src/eventlog/append.js";
import { createLogger, flushLogger } from "./log.js";
import { resolvePaths, type CpwdPaths } from "../src/platform/paths.js";
import { isProcessEntry } from "../src/platform/entry-point.js";
import { ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { EventRecord } from "../src/protocol/events.js";
import type { WorkerView } from "../src/protocol/workers.js";
import { RpcServer } from "../src/rpc/server.js";
import { readVersion } from "../src/platform/version.js";
import { systemClock, type DaemonContext } from "./context.js";
import { coreMethodGroup } from "./core-handlers.js";
import { claudeInfoOf, claudeLifecycle } from "./claude/claude-lifecycle.js";
import { DailyBudget } from "./claude/budget.js";
import { ClaudeTracker, type ClaudeInfo } from "./claude/tracker.js";
import { HookService } from "./coordination/hook-service.js";
import { HookHttpServer } from "./http-hooks/server.js";
import type { WorkerSummary } from "./coordination/digests.js";
import { ProcessRunner } from "./runner/process-runner.js";
import { workerMethodGroup } from "./supervisor/worker-handlers.js";
import { Supervisor } from "./supervisor/supervisor.js";
import { WorkerUsage } from "./supervisor/worker-usage.js";
import { FallbackIntake } from "./fallback-intake.js";
import { acquireInstance, type InstanceLock } from "./instance.js";
import { openEventLog } from "./open-event-log.js";
import { EventLogRotation } from "./rotate-event-log.js";
import { bindGroup, buildRpcServer } from "./rpc-table.js";

/** The daemon's exit code when it finds its instance lock taken from it. */
export const EXIT_LOCK_LOST = 75;

export interface DaemonOptions {
  paths?: CpwdPaths;
  env?: NodeJS.ProcessEnv;
  /** Also log to stderr (foreground, service manager). */
  logToStderr?: boolean;
  /** Install SIGTERM/SIGINT handlers. @default true */
  handleSignals?: boolean;
}

export interface RunningDaemon {
  ctx: DaemonContext;
  /** Resolves when the daemon has shut down. */
  done: Promise<void>;
  shutdown(reason: string): Promise<void>;
}

/** Starts the daemon; rejects with ALREADY_RUNNING (naming the pid) when another one owns the home. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const env = opts.env ?? process.env;
  const paths = opts.paths ?? resolvePaths();
  const startedAtMs = Date.now();
  const version = readVersion();
  const config = loadConfig(paths.config);
  const logger = createLogger({ file: paths.daemonLog, level: env.CPWD_LOG_LEVEL, stderr: opts.logToStderr ?? false });

  const instance = await becomeTheInstance(paths, logger);
  const secrets = knownSecrets(config.secretEnvNames, env, paths.workers);
  const opened = await openEventLog(paths, version, logger, secrets, config.digestRecentMs);
  const eventLog = opened.log;
  const rotation = new EventLogRotation({ eventsFile: paths.events, log: eventLog, state: opened.state, logger, maxBytes: config.eventLogMaxBytes, killAt: env.CPWD_TEST_KILL_AT });
  rotation.start();
  const ctx: DaemonContext = { paths, config, log: logger, events: eventLog, clock: systemClock, version, secrets };
  const intake = new FallbackIntake({ paths, log: eventLog, seen: opened.seenFallback, logger });
  // What the intake takes in now (hook events the shim wrote while the daemon was down) is not in
  // the history read above: the areas replay it with that history, or a subagent started while the
  // daemon was down, say, would not be seen until the next start.
  const ingested: EventRecord[] = [];
  const stopCollecting = eventLog.subscribe((records) => void ingested.push(...records));
  await intake.ingest();
  stopCollecting();
  for (const e of ingested) opened.history.push(e);

  const { claude, supervisor, hooks, budget } = await startAreas(ctx, eventLog, opened.history);
  opened.history.length = 0; // replayed; free the memory
  // `daemon.shutdown` is served before `shutdown` exists: the handler reaches it through this.
  let shutdown: (reason: string) => Promise<void> = async () => {};
  const usage = new WorkerUsage(); // CPU and memory of running workers, for status and worker.get
  const groups = [
    bindGroup(
      coreMethodGroup({
        ctx,
        log: eventLog,
        startedAtMs,
        workers: () => usage.annotate(supervisor.list()),
        statusExtras: () => ({ ...hooks.statusExtras(), eventLogFailure: describeWriteFailure(eventLog), claudeSpend: budget.today(ctx.clock.now()) }),
        requestShutdown: (reason) => setImmediate(() => void shutdown(reason)),
      }),
    ),
    bindGroup(hooks.methodGroup()),
    bindGroup(workerMethodGroup(supervisor, usage)),
  ];
  const rpc = buildRpcServer(groups, logger, secrets);
  const server = await RpcServer.listen({ socketPath: paths.socket, rpc, maxMessageBytes: config.maxMessageBytes, log: logger });
  // HTTP hooks reach the same table; a port that cannot be had leaves the socket and the shim serving.
  const hookHttp = await HookHttpServer.listen({ paths, configuredPort: config.hookHttpPort, maxBodyBytes: config.maxMessageBytes, rpc, log: logger }).catch((err: unknown) => {
    logger.error({ err, port: config.hookHttpPort }, "HTTP hooks not served");
    return null;
  });
  intake.watch();
  logger.info({ socket: paths.socket, home: paths.home, lastSeq: opened.lastSeq }, "daemon started");

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const parts: DaemonParts = { logger, intake, server, eventLog, instance, shutdownTimeoutMs: config.shutdownTimeoutMs };
  const areaClosers = [() => hookHttp?.close(), () => hooks.close(), () => supervisor.close(), () => claude.close(), () => rotation.close()];
  let shuttingDown: Promise<void> | null = null;
  shutdown = (reason) => (shuttingDown ??= stopDaemon(parts, areaClosers, reason).then(resolveDone));

  if (opts.handleSignals ?? true) handleProcessSignals(shutdown, logger);
  return { ctx, done, shutdown };
}

/** The secret-looking values of the daemon's environment and of every worker's (spec.json), before anything is written. */
function knownSecrets(patterns: readonly string[], env: NodeJS.ProcessEnv, workersDir: string): SecretMask {
  const mask = new SecretMask(patterns);
  mask.addEnv(env);
  let ids: string[] = [];
  try {
    ids = readdirSync(workersDir);
  } catch {
    // no workers yet
  }
  for (const id of ids) mask.addEnv(readWorkerSpecEnv(join(workersDir, id)));
  return mask;
}

/** Takes the instance lock, or rejects (ALREADY_RUNNING names the owner's pid). */
async function becomeTheInstance(paths: CpwdPaths, logger: Logger): Promise<InstanceLock> {
  return acquireInstance(paths, (err) => {
    // The lock folder was removed or replaced under us: another daemon may own the log now.
    // Exit at once, synchronously: no further append (not even daemon.stopped), and no socket
    // removal, since the socket file may be the new owner's (a stale one of ours is harmless:
    // nobody answers on it, and the next owner removes it). Workers are unaffected.
    logger.fatal({ err }, "event log lock compromised; exiting at once");
    flushLogger(logger);
    process.exit(EXIT_LOCK_LOST);
  }).catch((err: unknown) => {
    if (isCpwdError(err, ErrorCode.AlreadyRunning)) logger.warn({ err: err.message }, "refusing to start");
    flushLogger(logger);
    throw err;
  });
}

/** The areas that replay history: Claude progress, the supervisor, and the hook service. */
interface Areas {
  claude: ClaudeTracker;
  supervisor: Supervisor;
  hooks: HookService;
  /** The daily Claude budget: the supervisor's start gate, and today's spend for `status`. */
  budget: DailyBudget;
}

/** Builds the areas from the event log's history; the supervisor re-adopts running workers. */
async function startAreas(ctx: DaemonContext, eventLog: EventLog, history: EventRecord[]): Promise<Areas> {
  // A run over its cost limit is stopped by the supervisor, which exists only further down.
  let overLimit: (id: string, reason: string) => void = () => {};
  const claude = new ClaudeTracker(eventLog, (err) => ctx.log.warn({ err }, "recording Claude progress failed"), (id, reason) => overLimit(id, reason));
  for (const e of history) claude.observe(e);
  const budget = new DailyBudget(ctx.config.claudeDailyBudgetUsd, (sinceMs) => claude.spentSince(sinceMs));
  // What the supervisor records while it starts (adopted workers' exits, lost decisions) must
  // reach the hook service too, which subscribes only once the supervisor's view exists.
  const duringStart: EventRecord[] = [];
  const stopBuffering = eventLog.subscribe((records) => void duringStart.push(...records));
  const supervisor = await Supervisor.start(
    {
      ctx,
      runner: new ProcessRunner({ home: ctx.paths.home, log: ctx.log, ...(ctx.config.outputMux ? {} : { perl: null }) }),
      lifecycle: claudeLifecycle(claude, ctx.paths.home),
      startGate: budget,
    },
    history,
  );
  overLimit = (id, reason) => {
    ctx.log.info({ worker: id, reason }, "stopping a Claude worker over its cost limit");
    supervisor.stop(id, undefined, { reason }).catch((err: unknown) => ctx.log.warn({ err, worker: id }, "stopping a worker over its cost limit failed"));
  };
  stopBuffering();
  const summaries = (): WorkerSummary[] => supervisor.list().map((w) => summarize(w, claudeInfoOf(claude, w) ?? null));
  const hooks = new HookService({ ctx, log: eventLog, workers: summaries, worker: (id) => supervisor.record(id) }, (function* () {
    yield* history;
    yield* duringStart;
  })());
  return { claude, supervisor, hooks, budget };
}

/** A worker's row for digests. */
function summarize(w: WorkerView, claude: ClaudeInfo | null): WorkerSummary {
  return {
    id: w.id,
    name: w.name ?? undefined,
    state: w.state,
    pid: w.pid,
    exitCode: w.exitCode,
    signal: w.signal,
    startedAtMs: w.startedAt ? Date.parse(w.startedAt) : null,
    endedAtMs: w.endedAt ? Date.parse(w.endedAt) : null,
    restarts: w.restarts,
    reason: w.reason,
    claude,
  };
}

/** What a shutdown closes, beyond the areas. */
interface DaemonParts {
  logger: Logger;
  intake: FallbackIntake;
  server: RpcServer;
  eventLog: EventLog;
  instance: InstanceLock;
  shutdownTimeoutMs: number;
}

/**
 * Shuts down in the order that keeps the record whole: no new ingest, no new request, the areas
 * closed, the ingest under way finished, and only then `daemon.stopped`, the log and the lock.
 */
async function stopDaemon(parts: DaemonParts, areaClosers: Array<() => Promise<void> | void>, reason: string): Promise<void> {
  const { logger, intake, server, eventLog, instance } = parts;
  logger.info({ reason }, "daemon shutting down");
  const intakeClosed = intake.close();
  await server.close(parts.shutdownTimeoutMs).catch((err) => logger.warn({ err }, "closing the server"));
  for (const close of areaClosers) await Promise.resolve(close()).catch((err) => logger.warn({ err }, "closing an area"));
  await intakeClosed;
  await eventLog.append([{ type: "daemon.stopped", payload: { reason, pid: process.pid } }]).catch((err) => {
    logger.error({ err }, "could not record daemon.stopped");
  });
  await eventLog.close();
  await instance.release();
  logger.info({ reason }, "daemon stopped");
  flushLogger(logger);
}

/** Signals shut the daemon down; stray errors are logged, never fatal. */
function handleProcessSignals(shutdown: (reason: string) => Promise<void>, logger: Logger): void {
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(sig, () => void shutdown(`signal ${sig}`));
  }
  // One bad client, worker or line must never take the daemon down. RPC handlers and watchers
  // already catch their errors; this is the net under a bug that escapes them. Workers keep
  // running either way, and the event log's state is only changed after durable writes.
  process.on("uncaughtException", (err) => logger.error({ err }, "uncaught exception (daemon keeps running)"));
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection (daemon keeps running)"));
}

/** The event log's write failure for `status`: null while it writes, else what and since when. */
function describeWriteFailure(log: EventLog): { errno: string; message: string; since: string } | null {
  const f = log.writeFailure;
  return f && { errno: f.errno, message: f.message, since: new Date(f.sinceMs).toISOString() };
}

/** What the daemon's process needs from where it was started: its paths, environment and stderr. */
export interface DaemonProcessOptions {
  paths: CpwdPaths;
  env: NodeJS.ProcessEnv;
  /** Where the one human line (or why it did not start) goes. */
  stderr: NodeJS.WritableStream;
}

/**
 * Runs the daemon in this process until it shuts down, and returns the exit code: what
 * `node dist/daemon/main.js` (`cpwd start`, the login service) and `cpwd daemon` both run.
 */
export async function runDaemonProcess(opts: DaemonProcessOptions): Promise<number> {
  const { paths, env, stderr } = opts;
  const foreground = env.CPWD_SERVICE === "1" || process.stderr.isTTY === true;
  try {
    const d = await startDaemon({ paths, env, logToStderr: foreground });
    // One human line, so `npm start` shows it is up (the operational log is in daemon.log).
    stderr.write(`cpwd daemon running: pid ${process.pid}, home ${paths.home}, socket ${paths.socket}; Ctrl-C or \`cpwd stop\` stops it\n`);
    await d.done;
    // Shut down means gone: nothing left over (a log write waiting on a full disk, a stray
    // handle) may keep the process alive after `cpwd stop` was told it stopped.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  } catch (err) {
    stderr.write(`cpwd daemon: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}

// The resident process is this bundle alone (issue 11, idle RSS): started through the CLI, the
// CLI's own start-up ran Node's path.normalize hot enough for TurboFan to compile it, which pulled
// ~3.5 MiB of the compiler's machine code out of the node binary into the daemon's RSS for good.
// It reads its paths from the same environment `cpwd daemon` does.
if (isProcessEntry(import.meta.url)) {
  if (process.argv.length > 2) {
    process.stderr.write(`cpwd daemon: takes no arguments (got ${process.argv.slice(2).join(" ")})\n`);
    process.exitCode = 2;
  } else {
    void runDaemonProcess({ paths: resolvePaths(), env: process.env, stderr: process.stderr }).then((code) => (process.exitCode = code));
  }
}

export type { Logger };
