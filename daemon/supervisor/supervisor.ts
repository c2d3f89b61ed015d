// The supervisor: the imperative shell around the pure machine and policy. It owns the queue and
// the concurrency limit, starts workers through the runner, turns their ends into events, applies
// the restart policy with timers, and re-adopts workers after a daemon restart. Every change is
// recorded durably before it is applied or acknowledged; changes are serialised by one lock.
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workerDir } from "../../src/platform/paths.js";
import { CpwdError, ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { ACTIVE_STATES, FINAL_STATES, type WorkerSpec, type WorkerView } from "../../src/protocol/workers.js";
import type { DaemonContext } from "../context.js";
import type { ExitStatus, Runner, WorkerHandle } from "../runner/runner.js";
import { LogRotationScheduler } from "./log-rotation-scheduler.js";
import { evolve, type WorkerRecord } from "../../src/workers/machine.js";
import { classifyExit, decideAfterExit } from "../../src/workers/policy.js";
import { applyWorkerEvent, emptyWorkersState, type WorkersState } from "../../src/workers/replay.js";
import { toView } from "../../src/workers/view.js";

/** The `reason` of a worker whose wrapper died without recording its end (its group is killed). */
const LOST_LIVE = "lost: its wrapper died without recording an exit";
const LOST_ADOPTED = "lost: its wrapper was gone when the daemon came back";

/** The shell's codes for a command that could not be run: said in words, or `status` shows a bare 127. */
function exitHint(id: string, code: number | null): string | undefined {
  if (code === 127) return `exit 127: the command was not found, as a rule; see \`cpwd logs ${id} --stderr\``;
  if (code === 126) return `exit 126: the command could not be executed, as a rule; see \`cpwd logs ${id} --stderr\``;
  return undefined;
}

/**
 * Callbacks at points of a worker's life, for other areas (the Claude lifecycle makes worktrees
 * and follows Claude workers' output). Not Claude Code hooks: those are the hook service's.
 */
export interface WorkerLifecycle {
  /** May rewrite a new worker's spec once its id is known (e.g. create its git worktree). */
  prepare?(id: string, spec: WorkerSpec, dir: string): Promise<WorkerSpec>;
  started?(w: WorkerRecord, dir: string): void;
  ended?(w: WorkerRecord): void;
  removed?(w: WorkerRecord): Promise<string[]>;
  view?(w: WorkerRecord): Partial<WorkerView>;
}

export interface SupervisorDeps {
  ctx: DaemonContext;
  runner: Runner;
  random?: () => number;
  lifecycle?: WorkerLifecycle;
}

/** A simple async mutex: state changes run one at a time, in arrival order. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => {});
    return result;
  }
}

export class Supervisor {
  private readonly state: WorkersState = emptyWorkersState();
  private readonly lock = new Lock();
  /** Workers waiting for a slot, in the order they became ready (FIFO). */
  private ready: string[] = [];
  private readonly handles = new Map<string, WorkerHandle>();
  private readonly unwatch = new Map<string, () => void>();
  /** Each worker in backoff: the timer that starts it again. */
  private readonly backoffTimers = new Map<string, unknown>();
  /** Each stopping worker's SIGKILL deadline (absolute, clock ms) and its timer. */
  private readonly killDeadlines = new Map<string, { atMs: number; timer: unknown }>();
  private readonly rotator: LogRotationScheduler;
  private closed = false;

  private constructor(private readonly deps: SupervisorDeps) {
    this.rotator = new LogRotationScheduler(deps.ctx.config.logMaxBytes, deps.ctx.config.logFiles, (err) => deps.ctx.log.warn({ err }, "log rotation failed"));
  }

  /** Replays history, re-adopts workers that were running, and resumes the queue and backoffs. */
  static async start(deps: SupervisorDeps, history: Iterable<EventRecord>): Promise<Supervisor> {
    const s = new Supervisor(deps);
    for (const e of history) applyWorkerEvent(s.state, e);
    if (s.state.anomalies > 0) deps.ctx.log.warn({ anomalies: s.state.anomalies }, "replay skipped events the state machine refused");
    await s.resume();
    return s;
  }

  private dir(id: string): string {
    return workerDir(this.deps.ctx.paths, id);
  }

  private get workers(): Map<string, WorkerRecord> {
    return this.state.workers;
  }

  /** Appends events durably, then applies them. Call with the lock held. */
  private async commit(inputs: EventInput[]): Promise<void> {
    // Once shutdown began the event log is closing: nothing more may be recorded (or applied).
    if (this.closed) throw new CpwdError(ErrorCode.ShuttingDown, "the daemon is shutting down");
    // Refuse before writing: an event the machine would reject must never reach the log.
    this.preview(inputs);
    const written = await this.deps.ctx.events.append(inputs);
    for (const e of written) applyWorkerEvent(this.state, e);
  }

  private async resume(): Promise<void> {
    const now = this.deps.ctx.clock.now();
    const queued = [...this.workers.values()].filter((w) => w.state === "queued").sort((a, b) => a.queuedSeq - b.queuedSeq);
    this.ready = queued.map((w) => w.id);
    for (const w of this.workers.values()) {
      if (w.state === "backoff") this.armBackoff(w.id, Math.max(0, (w.nextStartAtMs ?? now) - now));
    }
    // The daemon may have died between a `worker.exited` and the decision that follows it
    // (backoff, fatal, a user's restart): an ended worker still in exited/failed/timed_out/stopped
    // gets that decision now. For the others the policy says "none" and nothing is written.
    for (const w of [...this.workers.values()].filter((x) => FINAL_STATES.has(x.state) && x.state !== "fatal")) {
      await this.lock.run(() => this.applyAfterExit(w.id));
    }
    for (const w of [...this.workers.values()].filter((x) => ACTIVE_STATES.has(x.state))) {
      const known: WorkerHandle | null = w.pid && w.wrapperPid
        ? { workerId: w.id, pid: w.pid, wrapperPid: w.wrapperPid, pidStartTime: w.pidStartTime, wrapperStartTime: w.wrapperStartTime, startedAtMs: w.startedAtMs ?? 0 }
        : null;
      const r = await this.deps.runner.adopt(w.id, this.dir(w.id), known);
      this.deps.ctx.log.info({ worker: w.id, found: r.kind }, "adopting worker after restart");
      if (r.kind === "running") {
        await this.lock.run(async () => {
          // The daemon died after `worker.starting` but before `worker.started`: the worker runs,
          // so record its start now, or it would stay `starting` for good.
          if (w.state === "starting") await this.commit([this.startedEvent(w.id, r.handle)]);
          this.track(w.id, r.handle);
          const now = this.workers.get(w.id)!;
          if (now.state === "stopping") this.signalStop(w.id, now.stopGraceMs ?? now.graceMs);
        });
      } else if (r.kind === "exited") {
        await this.onExit(w.id, r.exit);
      } else {
        // The runner has killed the worker's group if the worker was still ours.
        await this.onExit(w.id, { code: null, signal: null, timedOut: false, endedAtMs: now, lost: true }, LOST_ADOPTED);
      }
    }
    this.schedule();
  }

  // ---- spawning and scheduling -------------------------------------------------------------

  /** Queues a new worker; resolves once `worker.queued` is durable. */
  spawn(requested: WorkerSpec): Promise<WorkerView> {
    return this.lock.run(async () => {
      let spec = requested;
      if (spec.name && [...this.workers.values()].some((w) => w.name === spec.name)) {
        throw new CpwdError(ErrorCode.InvalidArgument, `a worker named ${spec.name} exists already; \`cpwd rm ${spec.name}\` forgets it once it has ended`);
      }
      const id = `W${this.state.nextNumber}`;
      // Reserve the number now: even if the append below fails, it is never handed out twice.
      this.state.nextNumber++;
      const dir = this.dir(id);
      mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
      if (this.deps.lifecycle?.prepare) {
        try {
          spec = await this.deps.lifecycle.prepare(id, spec, dir);
        } catch (err) {
          // Refused before it was queued (no git repository for --worktree): nothing of it stays.
          // Its number stays used: ids are never handed out twice.
          rmSync(dir, { recursive: true, force: true });
          throw err;
        }
      }
      // The environment may hold secrets: it stays in this 0600 file, not in the event log.
      writeFileSync(join(dir, "spec.json"), `${JSON.stringify({ id, ...spec })}\n`, { mode: 0o600 });
      const { env, ...rest } = spec;
      await this.commit([
        { type: "worker.queued", worker: id, payload: { spec: { ...rest, graceMs: spec.graceMs ?? this.deps.ctx.config.defaultGraceMs }, envKeys: Object.keys(env).length } },
      ]);
      this.ready.push(id);
      this.schedule();
      return this.view(this.workers.get(id)!);
    });
  }

  private activeCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (ACTIVE_STATES.has(w.state)) n++;
    return n;
  }

  /** Starts ready workers while slots are free. */
  private schedule(): void {
    if (this.closed) return;
    this.background("scheduling", () =>
      this.lock.run(async () => {
        while (this.ready.length > 0 && this.activeCount() < this.deps.ctx.config.maxParallel) {
          const id = this.ready.shift()!;
          const w = this.workers.get(id);
          if (!w || (w.state !== "queued" && w.state !== "backoff")) continue;
          await this.commit([{ type: "worker.starting", worker: id, payload: { attempt: w.attempt } }]);
          this.background("launching", () => this.launch(id));
        }
      }),
    );
  }

  private readSpecEnv(id: string): Record<string, string> {
    try {
      return (JSON.parse(readFileSync(join(this.dir(id), "spec.json"), "utf8")) as { env?: Record<string, string> }).env ?? {};
    } catch {
      return {};
    }
  }

  /** Launches outside the lock (it takes a few ms), then records the start under it. */
  private async launch(id: string): Promise<void> {
    const w = this.workers.get(id)!;
    const env = { ...this.readSpecEnv(id), CPWD_WORKER_ID: id, CPWD_HOME: this.deps.ctx.paths.home };
    let handle: WorkerHandle;
    try {
      handle = await this.deps.runner.launch({ workerId: id, argv: w.argv, cwd: w.cwd, env, dir: this.dir(id), timeoutMs: w.timeoutMs, graceMs: w.graceMs });
    } catch (err) {
      const now = this.deps.ctx.clock.now();
      await this.onExit(id, { code: null, signal: null, timedOut: false, endedAtMs: now }, `could not start: ${(err as Error).message}`);
      return;
    }
    await this.lock.run(async () => {
      await this.commit([this.startedEvent(id, handle)]);
      this.track(id, handle);
      const now = this.workers.get(id)!;
      // A stop that arrived during the launch is carried out now, with the grace it asked for
      // (0 for a kill), not the worker's default.
      if (now.state === "stopping") this.signalStop(id, now.stopGraceMs ?? now.graceMs);
    });
  }

  private startedEvent(id: string, h: WorkerHandle): EventInput {
    return {
      type: "worker.started",
      worker: id,
      payload: { pid: h.pid, wrapperPid: h.wrapperPid, pidStartTime: h.pidStartTime, wrapperStartTime: h.wrapperStartTime, startedAtMs: h.startedAtMs },
    };
  }

  /** Follows a running worker, launched or adopted: its end, its logs' size, the started hook. */
  private track(id: string, handle: WorkerHandle): void {
    this.handles.set(id, handle);
    this.unwatch.get(id)?.();
    this.unwatch.set(
      id,
      this.deps.runner.watchExit(handle, this.dir(id), (exit) => this.background("recording an exit", () => this.onExit(id, exit))),
    );
    this.rotator.add(id, join(this.dir(id), "logs"));
    this.deps.lifecycle?.started?.(this.workers.get(id)!, this.dir(id));
  }

  /**
   * Runs a change nobody awaits (an exit, a launch, the queue). One that comes after shutdown began
   * (a late exit or timer) is dropped: the log is closing, and the next start replays and adopts.
   */
  private background(what: string, fn: () => Promise<void>): void {
    fn().catch((err: unknown) => {
      if (!isCpwdError(err, ErrorCode.ShuttingDown)) this.deps.ctx.log.error({ err }, `${what} failed`);
    });
  }

  // ---- ends and restarts ----------------------------------------------------------------------

  private async onExit(id: string, exit: ExitStatus, reason?: string): Promise<void> {
    await this.lock.run(async () => {
      const w = this.workers.get(id);
      if (!w || !ACTIVE_STATES.has(w.state)) return;
      this.unwatch.get(id)?.();
      this.unwatch.delete(id);
      this.handles.delete(id);
      this.rotator.remove(id);
      this.clearKillDeadline(id);
      const state = classifyExit(exit, w.state === "stopping");
      // The wrapper's clock reading of the end can precede the daemon's of the start by a few ms
      // for a worker that ends at once: an end is never before its start.
      const endedAtMs = w.startedAtMs !== null ? Math.max(exit.endedAtMs, w.startedAtMs) : exit.endedAtMs;
      const runMs = w.startedAtMs !== null ? endedAtMs - w.startedAtMs : 0;
      const why = reason ?? (exit.lost ? LOST_LIVE : exitHint(id, exit.code));
      const events: EventInput[] = [];
      if (exit.timedOut) events.push({ type: "worker.timeout", worker: id, payload: { timeoutMs: w.timeoutMs } });
      events.push({
        type: "worker.exited",
        worker: id,
        payload: { state, code: exit.code, signal: exit.signal, timedOut: exit.timedOut, runMs, endedAtMs, ...(why ? { reason: why } : {}) },
      });
      // The end and what follows it (backoff, fatal, a user's restart) go into the log in one
      // commit: no reader (`cpwd logs -f` polling worker.get) may see a worker that will restart
      // sitting in an ended state, and no crash can separate the two. The decision is taken on the
      // record as the exit leaves it.
      const ended = this.preview(events).get(id)!;
      const after = this.decideAfterExit(ended);
      await this.commit([...events, ...after.events]);
      this.deps.lifecycle?.ended?.(ended);
      after.apply();
    });
    this.schedule();
  }

  /**
   * The workers as `inputs` would leave them, nothing applied; throws (TransitionError) on an event
   * the state machine refuses.
   */
  private preview(inputs: EventInput[]): Map<string, WorkerRecord> {
    const probe = new Map(this.workers);
    const ts = new Date(this.deps.ctx.clock.now()).toISOString();
    for (const i of inputs) {
      const next = evolve(probe.get(i.worker!), { ...i, seq: 0, ts, worker: i.worker });
      if (next) probe.set(i.worker!, next);
      else probe.delete(i.worker!);
    }
    return probe;
  }

  /**
   * What follows an end: a user's pending restart, or the restart policy. Returns the events to
   * record and what to do once they are durable (nothing is written or armed here).
   */
  private decideAfterExit(ended: WorkerRecord): { events: EventInput[]; apply: () => void } {
    const id = ended.id;
    if (ended.restartRequested && ended.state === "stopped") {
      return { events: [{ type: "worker.queued", worker: id, payload: { spec: this.specOf(ended), by: "user restart" } }], apply: () => this.ready.push(id) };
    }
    const next = decideAfterExit(ended, this.deps.ctx.clock.now(), this.deps.random ?? Math.random);
    if (next.kind === "backoff") {
      return {
        events: [{ type: "worker.backoff", worker: id, payload: { delayMs: next.delayMs, attempt: next.attempt, counted: next.counted } }],
        apply: () => this.armBackoff(id, next.delayMs),
      };
    }
    if (next.kind === "fatal") return { events: [{ type: "worker.fatal", worker: id, payload: { reason: next.reason, restarts: ended.restarts } }], apply: () => {} };
    return { events: [], apply: () => {} };
  }

  /** The decision lost in a daemon crash between an end and its follow-up. Call with the lock held. */
  private async applyAfterExit(id: string): Promise<void> {
    const after = this.decideAfterExit(this.workers.get(id)!);
    if (after.events.length === 0) return;
    await this.commit(after.events);
    after.apply();
  }

  private armBackoff(id: string, delayMs: number): void {
    const t = this.deps.ctx.clock.setTimeout(() => {
      this.backoffTimers.delete(id);
      this.ready.push(id);
      this.schedule();
    }, delayMs);
    this.backoffTimers.set(id, t);
  }

  private clearBackoff(id: string): void {
    const t = this.backoffTimers.get(id);
    if (t !== undefined) this.deps.ctx.clock.clearTimeout(t);
    this.backoffTimers.delete(id);
  }

  // ---- user actions -----------------------------------------------------------------------------

  /**
   * SIGTERM to the group now, SIGKILL after the grace (0: SIGKILL at once). Each worker has one
   * absolute SIGKILL deadline: a later stop may bring it forward, never push it back (the shortest
   * grace holds, counted from the stop that asked for it).
   */
  private signalStop(id: string, graceMs: number): void {
    const handle = this.handles.get(id);
    if (!handle) return; // the launch is in flight; launch() calls us again once the pid is known, with stopGraceMs
    if (graceMs <= 0) {
      this.clearKillDeadline(id);
      this.deps.runner.signal(handle, "SIGKILL");
      return;
    }
    this.deps.runner.signal(handle, "SIGTERM");
    const atMs = this.deps.ctx.clock.now() + graceMs;
    const previous = this.killDeadlines.get(id);
    if (previous && previous.atMs <= atMs) return;
    this.clearKillDeadline(id);
    const timer = this.deps.ctx.clock.setTimeout(() => {
      this.killDeadlines.delete(id);
      const h = this.handles.get(id);
      if (h) this.deps.runner.signal(h, "SIGKILL");
    }, graceMs);
    this.killDeadlines.set(id, { atMs, timer });
  }

  private clearKillDeadline(id: string): void {
    const k = this.killDeadlines.get(id);
    if (k) this.deps.ctx.clock.clearTimeout(k.timer);
    this.killDeadlines.delete(id);
  }

  /** Stops a worker: a running one gets SIGTERM then SIGKILL; a waiting one is cancelled. */
  stop(id: string, graceMs?: number, opts: { restart?: boolean } = {}): Promise<WorkerView> {
    return this.lock.run(async () => {
      const w = this.require(id);
      const grace = graceMs ?? w.graceMs;
      if (w.state === "queued" || w.state === "backoff") {
        this.clearBackoff(id);
        if (opts.restart) {
          this.ready.push(id);
        } else {
          await this.commit([{ type: "worker.cancelled", worker: id, payload: { reason: "stopped before it started" } }]);
        }
      } else if (w.state === "starting" || w.state === "running" || w.state === "stopping") {
        // Recorded even while the launch is under way: launch() then signals with this grace.
        await this.commit([{ type: "worker.stopping", worker: id, payload: { graceMs: grace, restart: opts.restart === true } }]);
        this.signalStop(id, grace);
      } else if (opts.restart) {
        await this.commit([{ type: "worker.queued", worker: id, payload: { spec: this.specOf(w), by: "user restart" } }]);
        this.ready.push(id);
      }
      return this.view(this.workers.get(id)!);
    }).finally(() => this.schedule());
  }

  kill(id: string): Promise<WorkerView> {
    return this.stop(id, 0);
  }

  restart(id: string): Promise<WorkerView> {
    return this.stop(id, undefined, { restart: true });
  }

  /** Forgets an ended worker and deletes its folder; `force` stops a running one first. */
  async remove(id: string, force: boolean): Promise<{ id: string; notes: string[] }> {
    const w = this.require(id);
    if (!FINAL_STATES.has(w.state)) {
      if (!force) throw new CpwdError(ErrorCode.InvalidState, `${id} is ${w.state}; stop it first, or use --force`);
      await this.stop(id, Math.min(w.graceMs, 2_000));
      await this.waitFor(id, (x) => !x || FINAL_STATES.has(x.state), 30_000);
    }
    return this.lock.run(async () => {
      const current = this.require(id);
      if (!FINAL_STATES.has(current.state)) throw new CpwdError(ErrorCode.InvalidState, `${id} is ${current.state}`);
      const notes = (await this.deps.lifecycle?.removed?.(current)) ?? [];
      await this.commit([{ type: "worker.removed", worker: id, payload: {} }]);
      rmSync(this.dir(id), { recursive: true, force: true });
      return { id, notes };
    });
  }

  private async waitFor(id: string, pred: (w: WorkerRecord | undefined) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.workers.get(id))) {
      if (Date.now() > deadline) throw new CpwdError(ErrorCode.InvalidState, `${id} did not stop within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private specOf(w: WorkerRecord): Record<string, unknown> {
    return { name: w.name, argv: w.argv, cwd: w.cwd, timeoutMs: w.timeoutMs, graceMs: w.graceMs, restart: w.restart, meta: w.meta };
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

  view(w: WorkerRecord): WorkerView {
    return { ...toView(w, this.deps.ctx.clock.now()), ...this.deps.lifecycle?.view?.(w) };
  }

  list(): WorkerView[] {
    return [...this.workers.values()].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))).map((w) => this.view(w));
  }

  /**
   * Daemon shutdown: timers and watchers stop; workers keep running under their wrappers. Resolves
   * once the change in progress is done, so the event log can be closed after it.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.backoffTimers.values(), ...[...this.killDeadlines.values()].map((k) => k.timer)]) this.deps.ctx.clock.clearTimeout(t);
    for (const u of this.unwatch.values()) u();
    this.rotator.close();
    this.deps.runner.close();
    await this.lock.run(async () => {}).catch(() => {});
  }
}
