// The supervisor: the imperative shell around the pure machine and policy. It starts workers
// through the runner, turns their ends into events, applies the restart policy with timers, and
// re-adopts workers after a daemon restart. Every change goes through the ledger (ledger.ts):
// recorded durably before it is applied or acknowledged, one at a time under its one lock. Its
// parts, a file each: ready-queue.ts (queue, concurrency), adopt.ts (after a restart),
// worker-events.ts (what is written; what follows an end), stop-signals.ts (SIGTERM, SIGKILL),
// live-workers.ts (each live worker's handle and timers), worker-folder.ts (spec.json),
// remove-worker.ts (rm), until-recorded.ts (a commit offered again after a full disk).
// Why ~420 lines: this class is the one place where every state change is sequenced under the
// ledger's lock (spawn, launch, exit, restart, rerun, stop, retry after a full disk); its parts
// live in the files above, and what stays is the order of their calls, which reads best in one
// place. The launch (recorded after it happens, with the stops asked for meanwhile) is the next
// flow to move out, as rm was; nothing more should grow this file.
import { workerDir } from "../../src/platform/paths.js";
import { CpwdError, ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { ACTIVE_STATES, FINAL_STATES, type WorkerSpec, type WorkerView } from "../../src/protocol/workers.js";
import { workerLogsDir } from "../../src/records/worker-files.js";
import type { WorkerRecord } from "../../src/workers/machine.js";
import { toView } from "../../src/workers/view.js";
import type { DaemonContext } from "../context.js";
import type { ExitStatus, Runner, WorkerHandle } from "../runner/runner.js";
import { adoptWorker, planResume, settleUnrecordedFolders, unrecordedLaunches } from "./adopt.js";
import { Ledger } from "./ledger.js";
import { LiveWorkers, type LaunchInFlight } from "./live-workers.js";
import { LogRotationScheduler } from "./log-rotation-scheduler.js";
import { ReadyQueue, type StartGate } from "./ready-queue.js";
import { removeWorker } from "./remove-worker.js";
import { signalStop } from "./stop-signals.js";
import { cancelledReason, exitEvents, followUp, launchInterrupted, LOST_ADOPTED, queuedEvent, requeuedByUser, rerunEvent, startedEvent, startingEvent, stoppingEvent, type FollowUp } from "./worker-events.js";
import { makeWorkerFolder, readSpecLaunch, rewriteSpecCommand } from "./worker-folder.js";
import type { WorkerLifecycle } from "./worker-lifecycle.js";
import { RETRY_MS, untilRecorded } from "./until-recorded.js";

export type { WorkerLifecycle } from "./worker-lifecycle.js";


export interface SupervisorDeps {
  ctx: DaemonContext;
  runner: Runner;
  random?: () => number;
  lifecycle?: WorkerLifecycle;
  /** What may hold a ready worker back (the daily Claude budget). */
  startGate?: StartGate;
}

export class Supervisor {
  /** The workers as recorded, the one lock, and commit (record durably, then apply). */
  private readonly ledger: Ledger;
  /** Workers waiting for a slot (FIFO), the concurrency limit and the start gate. */
  private readonly queue: ReadyQueue;
  /** One record per live worker: its handle, the watch on its end, its backoff and kill timers. */
  private readonly live: LiveWorkers;
  private readonly rotator: LogRotationScheduler;
  /** Settles once the latest launch is recorded (or has failed): the next one is recorded after it. */
  private lastLaunch: Promise<void> = Promise.resolve();

  private constructor(private readonly deps: SupervisorDeps) {
    this.ledger = new Ledger(deps.ctx.events, deps.ctx.clock);
    this.live = new LiveWorkers(deps.ctx.clock);
    const launch = (id: string) => this.background("launching", () => this.launch(id));
    this.queue = new ReadyQueue(this.ledger, deps.ctx.config.maxParallel, launch, (what, fn) => this.background(what, fn), deps.ctx.clock, deps.startGate);
    this.rotator = new LogRotationScheduler(deps.ctx.config.logMaxBytes, deps.ctx.config.logFiles, (err) => deps.ctx.log.warn({ err }, "log rotation failed"));
  }

  /** Replays history, re-adopts workers that were running, and resumes the queue and backoffs. */
  static async start(deps: SupervisorDeps, history: Iterable<EventRecord>): Promise<Supervisor> {
    const s = new Supervisor(deps);
    const anomalies = s.ledger.replay(history);
    if (anomalies > 0) deps.ctx.log.warn({ anomalies }, "replay skipped events the state machine refused");
    await s.resume();
    return s;
  }

  private dir(id: string): string {
    return workerDir(this.deps.ctx.paths, id);
  }

  private get workers(): ReadonlyMap<string, WorkerRecord> {
    return this.ledger.workers;
  }

  /** Carries out what the replayed log leaves to do (see adopt.ts), then fills free slots. */
  private async resume(): Promise<void> {
    await settleUnrecordedFolders(this.deps.runner, this.deps.ctx.log, this.deps.ctx.paths.workers, this.workers, () => this.ledger.reserveId());
    // Workers launched by a daemon that died before recording it (see `launch`; adopt.ts says which)
    // are recorded as starting, then adopted below like any worker left starting: none starts twice.
    for (const w of unrecordedLaunches(this.workers, (id) => this.dir(id))) await this.ledger.locked(() => this.ledger.commit([startingEvent(w)]));
    const now = this.deps.ctx.clock.now();
    const plan = planResume(this.workers, now);
    this.queue.reset(plan.ready);
    for (const b of plan.backoffs) this.armBackoff(b.id, b.delayMs);
    for (const id of plan.undecided) {
      await this.ledger.locked(async () => {
        const after = this.followUpOf(this.workers.get(id)!);
        if (after.events.length === 0) return;
        await this.ledger.commit(after.events);
        this.carryOut(id, after);
      });
    }
    for (const w of plan.active) {
      const r = await adoptWorker(this.deps.runner, this.deps.ctx.log, w, this.dir(w.id));
      if (r.kind === "running") {
        // The daemon died after `worker.starting` but before `worker.started`: the worker runs,
        // so record its start now, or it would stay `starting` for good.
        await this.adoptLive(w.id, r.handle, w.state === "starting");
      } else if (r.kind === "exited") {
        await this.onExit(w.id, r.exit);
      } else if (w.state === "starting" && r.handle === null) {
        // No run.json: the daemon died during the launch, before the wrapper reported the worker's
        // pid (it does within milliseconds of being spawned, far sooner than a daemon comes back),
        // so the worker never ran. It is queued again rather than recorded as lost.
        await this.ledger.locked(async () => {
          await this.ledger.commit([launchInterrupted(this.workers.get(w.id)!)]);
          this.queue.push(w.id);
        });
      } else {
        // The runner has killed the worker's group if the worker was still ours.
        await this.onExit(w.id, { code: null, signal: null, timedOut: false, endedAtMs: now, lost: true }, LOST_ADOPTED);
      }
    }
    this.queue.schedule();
  }

  // ---- spawning and launching --------------------------------------------------------------

  /** Queues a new worker; resolves once `worker.queued` is durable. */
  spawn(requested: WorkerSpec): Promise<WorkerView> {
    return this.ledger.locked(async () => {
      if (requested.name && [...this.workers.values()].some((w) => w.name === requested.name)) {
        throw new CpwdError(ErrorCode.InvalidArgument, `a worker named ${requested.name} exists already; \`cpwd rm ${requested.name}\` forgets it once it has ended`);
      }
      // Its number stays used even if the folder is refused or the append fails: ids are never
      // handed out twice.
      const id = this.ledger.reserveId();
      // Before anything about it is recorded: its secret-looking values never reach the record.
      this.deps.ctx.secrets?.addEnv(requested.env);
      const spec = await makeWorkerFolder(this.dir(id), id, requested, this.deps.lifecycle?.prepare?.bind(this.deps.lifecycle), this.deps.runner.takeFolder?.bind(this.deps.runner));
      const event = queuedEvent(id, spec, this.deps.ctx.config.defaultGraceMs);
      const w = this.ledger.preview([event]).get(id)!;
      const queued = this.ledger.commit([event]);
      // With a slot free and nobody waiting, it is launched while `worker.queued` is being made
      // durable, and its start recorded only once that is. The launch usually comes after the
      // line's write (the log's group commit is a setImmediate queued before this one), but not
      // when the log is still syncing an earlier batch: the line then waits for that, and the
      // worker may start before it is written at all. Either way a daemon killed in between leaves
      // a worker folder its record may lack: the next start kills what runs there and keeps its id
      // unused (settleUnrecordedFolders). Without a free slot its files are made meanwhile.
      const early = this.queue.claimNow(w);
      setImmediate(() => {
        if (!early) return this.deps.runner.prepare?.(this.dir(id));
        void this.background("launching", () => this.launch(id, { w, queued, spec }).finally(() => this.queue.release(id)));
      });
      await queued;
      if (!early) this.queue.push(id);
      this.queue.schedule();
      return this.view(this.workers.get(id)!);
    });
  }

  /**
   * A new run of an ended worker with a new command (and meta, if given): recorded as `worker.queued`
   * of the same worker, which keeps its name, folder, environment and policies.
   */
  rerun(id: string, argv: string[], meta?: Record<string, unknown>): Promise<WorkerView> {
    return this.ledger.locked(async () => {
      const w = this.require(id);
      if (!FINAL_STATES.has(w.state)) {
        throw new CpwdError(ErrorCode.InvalidState, `${id} is ${w.state}: a new run can start once it has ended (\`cpwd stop ${id}\` ends it now)`);
      }
      const queued = rerunEvent(w, argv, meta);
      await this.ledger.commit([queued]);
      rewriteSpecCommand(this.dir(id), argv, this.workers.get(id)!.meta);
      this.queue.push(id);
      this.queue.schedule();
      return this.view(this.workers.get(id)!);
    });
  }

  /**
   * Launches a worker the queue picked (outside the lock: it takes a few ms), then records
   * `worker.starting` and `worker.started` in one commit under it, with any stop asked for
   * meanwhile. Launching before recording takes two durable commits off every start's path (it
   * was starting, launch, started: three commits and the launch in series).
   *
   * Crash-safe in this order: a daemon that dies between the launch and its commit leaves the
   * worker `queued` (or `backoff`) in the log while its wrapper runs it, and the next daemon finds
   * the wrapper's fresh run.json, records the start and adopts the worker
   * (`resume`) rather than launching it again. Recording first would not make it
   * safer: a `worker.starting` with no launch behind it is what needs repairing then. Until the
   * commit, the worker holds a queue slot and a stop is recorded with its start (`stop`); a commit
   * the log refuses (a full disk) is offered again until it is taken.
   */
  private async launch(id: string, early?: { w: WorkerRecord; queued: Promise<void>; spec: WorkerSpec }): Promise<void> {
    let w = early?.w ?? this.workers.get(id)!;
    // Launched before its `worker.queued` was durable: recorded only once it is; if it never is, the
    // worker was never acknowledged, and what was started is killed.
    const queued = early ? early.queued.then(() => true, () => false) : true;
    const { launch, finish: settle } = this.live.beginLaunch(id);
    const recorded = () => {
      launch.recorded = true;
      settle();
    };
    // Launches run side by side, but are recorded in the order the queue made them (FIFO starts).
    const earlier = this.lastLaunch;
    this.lastLaunch = launch.done;
    try {
      // The command as spawned: the record's may have secret values redacted (see SecretMask). A new
      // worker's is at hand (what spec.json was just written from).
      const spec = early?.spec ?? readSpecLaunch(this.dir(id));
      const env = { ...spec.env, CPWD_WORKER_ID: id, CPWD_HOME: this.deps.ctx.paths.home };
      const argv = spec.argv ?? w.argv;
      let handle: WorkerHandle;
      try {
        await this.deps.lifecycle?.launching?.(w, this.dir(id));
        handle = await this.deps.runner.launch({ workerId: id, argv, cwd: w.cwd, env, dir: this.dir(id), timeoutMs: w.timeoutMs, graceMs: w.graceMs, launch: w.runs + 1 });
      } catch (err) {
        const endedAtMs = this.deps.ctx.clock.now();
        if (!(await queued)) return;
        w = this.workers.get(id) ?? w;
        await earlier;
        await untilRecorded(this.deps.ctx.clock, () =>
          this.ledger.locked(async () => {
            await this.ledger.commit([startingEvent(w), ...launch.stops]);
            recorded();
          }),
        );
        await this.onExit(id, { code: null, signal: null, timedOut: false, endedAtMs }, `could not start: ${(err as Error).message}`);
        return;
      }
      if (!(await queued)) return this.deps.runner.signal(handle, "SIGKILL");
      w = this.workers.get(id) ?? w;
      // Not recorded at once (a full disk): the worker runs, holding its slot, and is recorded
      // (its end followed, read from exit.json if it came meanwhile) once the log takes it.
      await earlier;
      await untilRecorded(this.deps.ctx.clock, () => this.goLive(id, handle, () => [startingEvent(w), startedEvent(id, handle), ...launch.stops], recorded));
    } finally {
      settle();
    }
  }

  /**
   * Records what `record` returns (the start, unless the log has it already) and follows the
   * worker, under the lock; `recorded` runs as soon as the commit is durable, still under it.
   */
  private goLive(id: string, handle: WorkerHandle, record: () => EventInput[], recorded?: () => void): Promise<void> {
    return this.ledger.locked(async () => {
      const events = record();
      if (events.length > 0) await this.ledger.commit(events);
      recorded?.();
      this.track(id, handle);
      const now = this.workers.get(id)!;
      // A stop that arrived during the launch is carried out now, with the grace it asked for
      // (0 for a kill), not the worker's default.
      if (now.state === "stopping") this.signalStop(id, now.stopGraceMs ?? now.graceMs);
    });
  }

  /** Follows an adopted worker, recording its start first if the log lacks it (offered again after a full disk). */
  private adoptLive(id: string, handle: WorkerHandle, recordStart: boolean): Promise<void> {
    return this.goLive(id, handle, () => (recordStart ? [startedEvent(id, handle)] : [])).catch((err: unknown) => {
      // Not recorded (a full disk): offered again shortly; the worker is followed once it is
      // (its end, if it came meanwhile, is read then from exit.json).
      if (isCpwdError(err, ErrorCode.Io)) this.deps.ctx.clock.setTimeout(() => this.background("recording a start", () => this.adoptLive(id, handle, recordStart)), RETRY_MS);
      throw err;
    });
  }

  /** Follows a running worker, launched or adopted: its end, its logs' size, the started callback. */
  private track(id: string, handle: WorkerHandle): void {
    this.live.attach(id, handle, () =>
      this.deps.runner.watchExit(handle, this.dir(id), (exit) => this.background("recording an exit", () => this.onExit(id, exit))),
    );
    this.rotator.add(id, workerLogsDir(this.dir(id)));
    this.deps.lifecycle?.started?.(this.workers.get(id)!, this.dir(id));
  }

  /**
   * Runs a change nobody awaits (an exit, a launch, the queue). One that comes after shutdown began
   * (a late exit or timer) is dropped: the log is closing, and the next start replays and adopts.
   */
  private background(what: string, fn: () => Promise<void>): Promise<void> {
    return fn().catch((err: unknown) => {
      if (!isCpwdError(err, ErrorCode.ShuttingDown)) this.deps.ctx.log.error({ err }, `${what} failed`);
    });
  }

  // ---- ends and restarts ----------------------------------------------------------------------

  private async onExit(id: string, exit: ExitStatus, reason?: string): Promise<void> {
    await this.ledger.locked(async () => {
      const w = this.workers.get(id);
      if (!w || !ACTIVE_STATES.has(w.state)) return;
      this.live.release(id);
      this.rotator.remove(id);
      const events = exitEvents(w, exit, reason, this.deps.lifecycle?.stoppedBecause?.(w, this.dir(id)));
      // The end and what follows it (backoff, fatal, a user's restart) go into the log in one
      // commit: no reader (`cpwd logs -f` polling worker.get) may see a worker that will restart
      // sitting in an ended state, and no crash can separate the two. The decision is taken on the
      // record as the exit leaves it.
      const ended = this.ledger.preview(events).get(id)!;
      const after = this.followUpOf(ended);
      try {
        await this.ledger.commit([...events, ...after.events]);
      } catch (err) {
        // Not recorded (the event log cannot be written: a full disk): the end is offered again
        // shortly, until the log takes it; the worker stays as recorded until then.
        if (isCpwdError(err, ErrorCode.Io)) this.deps.ctx.clock.setTimeout(() => this.background("recording an exit", () => this.onExit(id, exit, reason)), RETRY_MS);
        throw err;
      }
      this.deps.lifecycle?.ended?.(ended);
      this.carryOut(id, after);
    });
    this.queue.schedule();
  }

  private followUpOf(ended: WorkerRecord): FollowUp {
    return followUp(ended, this.deps.ctx.clock.now(), this.deps.random ?? Math.random);
  }

  /** What a follow-up does once its events are durable: queue the worker again, or arm its backoff. */
  private carryOut(id: string, after: FollowUp): void {
    if (after.then.kind === "queue") this.queue.push(id);
    else if (after.then.kind === "backoff") this.armBackoff(id, after.then.delayMs);
  }

  private armBackoff(id: string, delayMs: number): void {
    this.live.armBackoff(id, delayMs, () => {
      this.queue.push(id);
      this.queue.schedule();
    });
  }

  // ---- user actions -----------------------------------------------------------------------------

  private signalStop(id: string, graceMs: number): void {
    signalStop({ live: this.live, runner: this.deps.runner, clock: this.deps.ctx.clock }, id, graceMs);
  }

  /**
   * Stops a worker: a running one gets SIGTERM then SIGKILL (`kill`: SIGKILL now, and its end says
   * so); a waiting one is cancelled. `reason` (cpwd's own stop, e.g. over a cost limit) is recorded
   * and becomes the end's reason.
   */
  stop(id: string, graceMs?: number, opts: { restart?: boolean; reason?: string; kill?: boolean } = {}): Promise<WorkerView> {
    return this.ledger.locked(async (): Promise<WorkerView | { launched: LaunchInFlight }> => {
      const w = this.require(id);
      const grace = opts.kill ? 0 : (graceMs ?? w.graceMs);
      const launch = this.live.launchOf(id);
      if (launch) {
        // Launched, not yet recorded: the stop is recorded with the start, and carried out then
        // with this grace (goLive). Awaited outside the lock, which the launch's commit needs.
        launch.stops.push(stoppingEvent(id, grace, opts));
        return { launched: launch };
      }
      if (w.state === "queued" || w.state === "backoff") {
        this.live.clearBackoff(id);
        if (opts.restart) {
          this.queue.push(id);
        } else {
          await this.ledger.commit([{ type: "worker.cancelled", worker: id, payload: { reason: opts.reason ?? cancelledReason(w) } }]);
        }
      } else if (w.state === "starting" || w.state === "running" || w.state === "stopping") {
        // Recorded even while the launch is under way: goLive() then signals with this grace.
        await this.ledger.commit([stoppingEvent(id, grace, opts)]);
        this.signalStop(id, grace);
      } else if (opts.restart) {
        await this.ledger.commit([requeuedByUser(w)]);
        this.queue.push(id);
      }
      return this.view(this.workers.get(id)!);
    })
      .then(async (done) => {
        if (!("launched" in done)) return done;
        await done.launched.done;
        // Not recorded: the launch ended without its commit (the daemon is shutting down).
        if (!done.launched.recorded) throw new CpwdError(ErrorCode.ShuttingDown, `the stop of ${id} was not recorded: the daemon is shutting down`);
        return this.view(this.require(id));
      })
      .finally(() => this.queue.schedule());
  }

  kill(id: string): Promise<WorkerView> {
    return this.stop(id, undefined, { kill: true });
  }

  restart(id: string): Promise<WorkerView> {
    return this.stop(id, undefined, { restart: true });
  }

  /** Forgets an ended worker and deletes its folder; `force` stops a running one first (remove-worker.ts). */
  remove(id: string, force: boolean): Promise<{ id: string; notes: string[] }> {
    const parts = { ledger: this.ledger, dir: (x: string) => this.dir(x), stop: (x: string, g: number) => this.stop(x, g), lifecycle: this.deps.lifecycle };
    return removeWorker(parts, id, force);
  }


  // ---- reading ------------------------------------------------------------------------------------

  private require(id: string): WorkerRecord {
    const w = this.workers.get(id);
    if (!w) throw new CpwdError(ErrorCode.NotFound, `no worker ${id}`);
    return w;
  }

  /** Worker ids for a target: an id, a name, or `all`. */
  resolve(target: string): string[] {
    if (target === "all") return [...this.workers.keys()];
    if (this.workers.has(target)) return [target];
    const byName = [...this.workers.values()].filter((w) => w.name === target).map((w) => w.id);
    if (byName.length === 0) throw new CpwdError(ErrorCode.NotFound, `no worker ${target} (an id like W3, a name, or all)`);
    return byName;
  }

  record(id: string): WorkerRecord | undefined {
    return this.workers.get(id);
  }

  /** A worker's view; a ready worker the start gate holds back has the gate's reason. */
  view(w: WorkerRecord): WorkerView {
    const held = w.state === "queued" || w.state === "backoff" ? this.queue.holdReason(w.id) : undefined;
    return { ...toView(w, this.deps.ctx.clock.now()), ...this.deps.lifecycle?.view?.(w), ...(held ? { reason: held } : {}) };
  }

  list(): WorkerView[] {
    return [...this.workers.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))).map((w) => this.view(w));
  }

  /**
   * Daemon shutdown: timers and watchers stop; workers keep running under their wrappers. Resolves
   * once the change in progress is done, so the event log can be closed after it.
   */
  async close(): Promise<void> {
    const drained = this.ledger.close();
    this.live.close();
    this.queue.close();
    this.rotator.close();
    this.deps.runner.close();
    await drained;
  }
}
