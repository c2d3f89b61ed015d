// The daemon: becomes the one instance for its home, recovers and opens the event log, replays
// state, ingests the fallback log, serves JSON-RPC on the socket, and shuts down gracefully on
// SIGTERM/SIGINT or `daemon.shutdown`. Workers are never stopped by a daemon shutdown.
import { watch, type FSWatcher } from "node:fs";
import { basename, join } from "node:path";
import type { Logger } from "pino";
import { loadConfig } from "../src/platform/config.js";
import { EventLog } from "../src/eventlog/append.js";
import { ingestFallback } from "../src/eventlog/ingest.js";
import { cutTornTail } from "../src/eventlog/recover.js";
import { scanLog } from "../src/eventlog/scan.js";
import { SeqIndex } from "../src/eventlog/seq-index.js";
import { createLogger, flushLogger } from "./log.js";
import { resolvePaths, type CpwdPaths } from "../src/platform/paths.js";
import { ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { EventRecord } from "../src/protocol/events.js";
import { RpcServer } from "../src/rpc/server.js";
import { readVersion } from "../src/platform/version.js";
import { systemClock, type DaemonContext } from "./context.js";
import { coreMethodGroup } from "./core-handlers.js";
import { ClaudeTracker } from "./claude/tracker.js";
import { createWorktree, removeWorktreeIfClean, type Worktree } from "./claude/worktree.js";
import { HookService } from "./coordination/hook-service.js";
import { ProcessRunner } from "./runner/process-runner.js";
import { workerMethodGroup } from "./supervisor/worker-handlers.js";
import { Supervisor } from "./supervisor/supervisor.js";
import type { WorkerSummary } from "./coordination/digests.js";
import { acquireInstance } from "./instance.js";
import { buildRpcServer, type MethodGroup } from "./rpc-table.js";

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

  let shuttingDown: Promise<void> | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const shutdownRef: { fn: (reason: string) => Promise<void> } = { fn: async () => {} };

  const instance = await acquireInstance(paths, (err) => {
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

  // One pass over the log: state to replay, the seq index, fids of ingested fallback records.
  const history: EventRecord[] = [];
  const index = new SeqIndex();
  const seenFallback = new Set<string>();
  const scan = scanLog(paths.events, (e, offset) => {
    index.note(e.seq, offset);
    history.push(e);
    if (e.source === "fallback" && typeof e.payload.fallbackId === "string") seenFallback.add(e.payload.fallbackId);
  });
  const recovery = cutTornTail(paths.events, paths.quarantine, scan.goodEndBytes, scan.sizeBytes, scan.badLinesInTail);
  const eventLog = await EventLog.open(paths.events, {
    lastSeq: scan.lastSeq,
    eventCount: scan.eventCount,
    sizeBytes: scan.goodEndBytes,
    index,
  });
  const ctx: DaemonContext = { paths, config, log: logger, events: eventLog, clock: systemClock, version };

  const startup = [];
  if (recovery.truncatedBytes > 0) {
    logger.warn({ ...recovery, quarantine: paths.quarantine }, "torn tail of events.jsonl moved to quarantine");
    startup.push({
      type: "log.recovered",
      payload: { ...recovery, quarantine: paths.quarantine, lastSeq: scan.lastSeq },
    });
  }
  startup.push({
    type: "daemon.started",
    payload: { pid: process.pid, version, recoveredSeq: scan.lastSeq, socket: paths.socket },
  });
  await eventLog.append(startup);

  const fallbackOffset = `${paths.fallback}.offset`;
  let ingesting: Promise<void> = Promise.resolve();
  const ingest = (): Promise<void> =>
    (ingesting = ingesting.then(async () => {
      try {
        const r = await ingestFallback(paths.fallback, fallbackOffset, paths.quarantine, seenFallback, (inputs) => eventLog.append(inputs));
        if (r.count > 0 || r.badLines > 0) {
          const { count, skippedDuplicates, badLines, quarantined } = r;
          await eventLog.append([{ type: "fallback.ingested", payload: { count, skippedDuplicates, badLines, quarantined } }]);
          logger.info(r, "fallback log ingested");
        }
      } catch (err) {
        logger.error({ err }, "fallback ingest failed; will retry when the file changes");
      }
    }));
  await ingest();

  const claude = new ClaudeTracker(eventLog, (err) => logger.warn({ err }, "recording Claude progress failed"));
  for (const e of history) claude.observe(e);
  // What the supervisor records while it starts (adopted workers' exits, lost decisions) must
  // reach the hook service too, which subscribes only once the supervisor's view exists.
  const duringStart: EventRecord[] = [];
  const stopBuffering = eventLog.subscribe((records) => void duringStart.push(...records));
  const supervisor = await Supervisor.start(
    {
      ctx,
      runner: new ProcessRunner({ home: paths.home, log: logger }),
      lifecycle: {
        prepare: async (id, spec) => {
          if (spec.meta.worktreeFrom !== true) return spec;
          const { worktreeFrom: _, ...meta } = spec.meta;
          const wt = await createWorktree(spec.cwd, id, join(paths.home, "worktrees", id));
          return { ...spec, cwd: wt.path, meta: { ...meta, worktree: wt } };
        },
        started: (w, dir) => {
          if (w.meta.kind === "claude") claude.track(w.id, join(dir, "logs", "stdout.log"), join(dir, "logs"));
        },
        ended: (w) => claude.untrack(w.id),
        view: (w) => (w.meta.kind === "claude" ? { claude: (claude.get(w.id) as Record<string, unknown> | undefined) ?? null } : {}),
        removed: async (w) => {
          const wt = w.meta.worktree as Worktree | undefined;
          if (!wt?.path) return [];
          const r = await removeWorktreeIfClean(wt).catch((err: Error) => ({ removed: false as const, reason: err.message }));
          return [r.removed ? `${w.id}: removed worktree ${wt.path} and branch ${wt.branch}` : `${w.id}: kept worktree ${wt.path}: ${r.reason}`];
        },
      },
    },
    history,
  );
  const workers = () => supervisor.list();
  const summaries = (): WorkerSummary[] =>
    supervisor.list().map((w) => ({
      id: w.id,
      name: w.name ?? undefined,
      state: w.state,
      pid: w.pid,
      exitCode: w.exitCode,
      signal: w.signal,
      startedAtMs: w.startedAt ? Date.parse(w.startedAt) : null,
      endedAtMs: w.endedAt ? Date.parse(w.endedAt) : null,
      restarts: w.restarts,
      claude: (w.claude as WorkerSummary["claude"]) ?? null,
    }));
  stopBuffering();
  const hooks = new HookService({ ctx, log: eventLog, workers: summaries, worker: (id) => supervisor.record(id) }, (function* () {
    yield* history;
    yield* duringStart;
  })());
  const areaClosers: Array<() => Promise<void> | void> = [() => hooks.close(), () => supervisor.close(), () => claude.close()];
  const groups = [
    coreMethodGroup({
      ctx,
      log: eventLog,
      startedAtMs,
      workers,
      statusExtras: () => ({ ...hooks.statusExtras(), eventLogFailure: describeWriteFailure(eventLog) }),
      requestShutdown: (reason) => setImmediate(() => void shutdownRef.fn(reason)),
    }),
    hooks.methodGroup(),
    workerMethodGroup(supervisor),
  ] as unknown as MethodGroup[];
  history.length = 0; // replayed; free the memory

  const server = await RpcServer.listen({
    socketPath: paths.socket,
    rpc: buildRpcServer(groups, logger),
    maxMessageBytes: config.maxMessageBytes,
    log: logger,
  });

  // Ingest whenever a shim appends to the fallback log (inotify/FSEvents: no polling).
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | undefined;
  try {
    watcher = watch(paths.home, (_event, name) => {
      if (name !== basename(paths.fallback)) return;
      clearTimeout(debounce);
      debounce = setTimeout(() => void ingest(), 20);
    });
    watcher.on("error", (err) => logger.warn({ err }, "fallback watcher failed"));
  } catch (err) {
    logger.warn({ err }, "cannot watch the home folder; fallback ingested at start only");
  }

  logger.info({ socket: paths.socket, home: paths.home, lastSeq: scan.lastSeq }, "daemon started");

  const shutdown = (reason: string): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      logger.info({ reason }, "daemon shutting down");
      watcher?.close();
      clearTimeout(debounce);
      await server.close(config.shutdownTimeoutMs).catch((err) => logger.warn({ err }, "closing the server"));
      for (const close of areaClosers) await Promise.resolve(close()).catch((err) => logger.warn({ err }, "closing an area"));
      await ingesting;
      await eventLog.append([{ type: "daemon.stopped", payload: { reason, pid: process.pid } }]).catch((err) => {
        logger.error({ err }, "could not record daemon.stopped");
      });
      await eventLog.close();
      await instance.release();
      logger.info({ reason }, "daemon stopped");
      flushLogger(logger);
      resolveDone();
    })();
    return shuttingDown;
  };
  shutdownRef.fn = shutdown;

  if (opts.handleSignals ?? true) {
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      process.on(sig, () => void shutdown(`signal ${sig}`));
    }
    // One bad client, worker or line must never take the daemon down. RPC handlers and watchers
    // already catch their errors; this is the net under a bug that escapes them. Workers keep
    // running either way, and the event log's state is only changed after durable writes.
    process.on("uncaughtException", (err) => logger.error({ err }, "uncaught exception (daemon keeps running)"));
    process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection (daemon keeps running)"));
  }
  return { ctx, done, shutdown };
}

/** The event log's write failure for `status`: null while it writes, else what and since when. */
function describeWriteFailure(log: EventLog): { errno: string; message: string; since: string } | null {
  const f = log.writeFailure;
  return f && { errno: f.errno, message: f.message, since: new Date(f.sinceMs).toISOString() };
}

export type { Logger };
