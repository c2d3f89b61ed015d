// What the supervisor holds for each live worker — one that runs, or waits in backoff: its handle,
// the watch on its end, its backoff timer and its SIGKILL deadline, in one record per worker.
import type { EventInput } from "../../src/protocol/events.js";
import type { Clock } from "../context.js";
import type { WorkerHandle } from "../runner/runner.js";

/** A launch not yet recorded (see `Supervisor.launch`): the stops asked of it meanwhile, and its end. */
export interface LaunchInFlight {
  /** `worker.stopping` events to record with the start, in the order they were asked for. */
  stops: EventInput[];
  /** Settles once the launch is recorded, or has failed and its end is recorded. */
  done: Promise<void>;
  /** Set once the start (and `stops`) are in the log; false when `done` settled without that (shutdown). */
  recorded: boolean;
}

/** One live worker's process-side state (its recorded state is the ledger's). */
export interface LiveWorker {
  /** The running worker, once launched or adopted. */
  handle?: WorkerHandle;
  /** Launched or being launched, not yet recorded as started. */
  launching?: LaunchInFlight;
  /** Stops watching for its end. */
  unwatch?: () => void;
  /** In backoff: the timer that starts it again. */
  backoffTimer?: unknown;
  /** Stopping: the SIGKILL deadline (absolute, clock ms) and its timer. */
  killDeadline?: { atMs: number; timer: unknown };
}

/**
 * The live workers by id. A record is made when a worker goes live or into backoff and dropped
 * with everything in it when that ends, so no timer or watch outlives its worker.
 */
export class LiveWorkers {
  private readonly byId = new Map<string, LiveWorker>();

  constructor(private readonly clock: Clock) {}

  get(id: string): LiveWorker | undefined {
    return this.byId.get(id);
  }

  /**
   * Follows a running worker: its handle, and the watch `watch` starts on its end. An earlier watch
   * is stopped before the new one starts (a runner may key watches by worker id).
   */
  attach(id: string, handle: WorkerHandle, watch: () => () => void): void {
    const w = this.open(id);
    w.unwatch?.();
    w.handle = handle;
    w.unwatch = watch();
  }

  /** Marks a launch under way; the returned function ends it (once recorded, or failed). */
  beginLaunch(id: string): { launch: LaunchInFlight; finish: () => void } {
    const w = this.open(id);
    let finish!: () => void;
    const launch: LaunchInFlight = { stops: [], done: new Promise<void>((resolve) => (finish = resolve)), recorded: false };
    w.launching = launch;
    return {
      launch,
      finish: () => {
        if (w.launching === launch) w.launching = undefined;
        this.dropIfIdle(id, w);
        finish();
      },
    };
  }

  /** The launch of `id` not yet recorded, if one is under way. */
  launchOf(id: string): LaunchInFlight | undefined {
    return this.byId.get(id)?.launching;
  }

  /** Arms the timer that ends a backoff; `due` runs once it fires (the record is dropped first). */
  armBackoff(id: string, delayMs: number, due: () => void): void {
    const w = this.open(id);
    w.backoffTimer = this.clock.setTimeout(() => {
      w.backoffTimer = undefined;
      this.dropIfIdle(id, w);
      due();
    }, delayMs);
  }

  clearBackoff(id: string): void {
    const w = this.byId.get(id);
    if (!w) return;
    if (w.backoffTimer !== undefined) this.clock.clearTimeout(w.backoffTimer);
    w.backoffTimer = undefined;
    this.dropIfIdle(id, w);
  }

  /** Sets the SIGKILL deadline, replacing any earlier one; `fire` runs when it passes. */
  setKillDeadline(id: string, atMs: number, fire: () => void): void {
    const w = this.open(id);
    this.clearKillDeadline(id);
    const timer = this.clock.setTimeout(() => {
      w.killDeadline = undefined;
      fire();
    }, atMs - this.clock.now());
    w.killDeadline = { atMs, timer };
  }

  clearKillDeadline(id: string): void {
    const w = this.byId.get(id);
    if (w?.killDeadline) this.clock.clearTimeout(w.killDeadline.timer);
    if (w) w.killDeadline = undefined;
  }

  /** A worker ended: stops watching it, clears its timers and forgets it. */
  release(id: string): void {
    const w = this.byId.get(id);
    if (!w) return;
    this.stopAll(w);
    this.byId.delete(id);
  }

  /** Daemon shutdown: every watch and timer stops (the workers keep running under their wrappers). */
  close(): void {
    for (const w of this.byId.values()) this.stopAll(w);
    this.byId.clear();
  }

  private open(id: string): LiveWorker {
    let w = this.byId.get(id);
    if (!w) this.byId.set(id, (w = {}));
    return w;
  }

  private stopAll(w: LiveWorker): void {
    w.unwatch?.();
    if (w.backoffTimer !== undefined) this.clock.clearTimeout(w.backoffTimer);
    if (w.killDeadline) this.clock.clearTimeout(w.killDeadline.timer);
  }

  /** A record with neither a running worker, a backoff nor a launch is done. */
  private dropIfIdle(id: string, w: LiveWorker): void {
    if (!w.handle && w.backoffTimer === undefined && !w.launching && this.byId.get(id) === w) this.byId.delete(id);
  }
}
