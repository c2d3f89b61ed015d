// Heavy work (a large read) of every connection goes through one gate, a few jobs at a time and
// one of any connection's at a time: connections take turns (one client's hundreds of queued jobs
// never hold up another's one), a connection's jobs wait while it is not reading its replies, and
// a job whose connection closed before its turn is never run. So a client that pipelines big
// reads and never reads the answers costs the daemon a page of memory and a few milliseconds a
// turn, whatever it sends.
import { CpwdError, ErrorCode } from "../protocol/errors.js";

interface Job {
  start(): void;
  fail(err: CpwdError): void;
}

/** One connection's place at the gate. */
export interface GateLane {
  /** Runs `work` on this connection's turn; rejects, without running it, if the lane closes first. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** The connection may be ready again (its replies drained): look for work to start. */
  wake(): void;
  /** The connection closed: its waiting jobs fail with CONNECTION_CLOSED and are not run. */
  close(): void;
}

/** A connection's waiting jobs; `busy` while one of them runs. */
interface Lane {
  jobs: Job[];
  ready: () => boolean;
  busy: boolean;
}

export class HeavyWorkGate {
  private running = 0;
  /** Lanes with waiting jobs, in turn order. */
  private readonly turns: Lane[] = [];
  private dispatchScheduled = false;
  private closing = false;

  /** @param jobsAtOnce heavy jobs running at once, all connections together */
  constructor(private readonly jobsAtOnce: number) {}

  /** A lane for one connection; `ready` says whether it is reading its replies (and still open). */
  lane(ready: () => boolean): GateLane {
    const lane: Lane = { jobs: [], ready, busy: false };
    return {
      run: <T>(work: () => Promise<T>) =>
        new Promise<T>((resolve, reject) => {
          const start = (): void => {
            this.running++;
            lane.busy = true;
            void Promise.resolve()
              .then(work)
              .then(resolve, reject)
              .finally(() => {
                this.running--;
                lane.busy = false;
                this.scheduleDispatch();
              });
          };
          if (lane.jobs.length === 0) this.turns.push(lane);
          lane.jobs.push({ start, fail: reject });
          this.dispatch();
        }),
      wake: () => this.dispatch(),
      close: () => {
        const i = this.turns.indexOf(lane);
        if (i !== -1) this.turns.splice(i, 1);
        const err = new CpwdError(ErrorCode.ConnectionClosed, "the connection closed before this call's turn; it was not run");
        for (const job of lane.jobs.splice(0)) job.fail(err);
      },
    };
  }

  /**
   * The server is closing: jobs of connections that are not reading their replies fail with
   * SHUTTING_DOWN now (they would hold the shutdown for nothing); the others still run.
   */
  close(): void {
    this.closing = true;
    this.dispatch();
  }

  /**
   * After a job, the next starts one event-loop turn later: by then its reply has been written, so
   * its connection's backlog is up to date, and other connections' small calls get a turn.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * Starts jobs while there is room: the first ready lane with none of its jobs running gives one
   * and goes to the back. One at a time a connection: its next job starts once the last one's
   * reply is out, so that one which does not read its replies has one page made for it, not one
   * a slot (each page is a burst of parsing and serialising that everyone else waits through,
   * and megabytes of garbage while it is in flight).
   */
  private dispatch(): void {
    let i = 0;
    while (i < this.turns.length && this.running < this.jobsAtOnce) {
      const lane = this.turns[i]!;
      if (lane.busy) {
        i++;
        continue;
      }
      if (!lane.ready()) {
        if (this.closing) {
          this.turns.splice(i, 1);
          const err = new CpwdError(ErrorCode.ShuttingDown, "the daemon is shutting down; this call was not run");
          for (const job of lane.jobs.splice(0)) job.fail(err);
        } else {
          i++;
        }
        continue;
      }
      this.turns.splice(i, 1);
      const job = lane.jobs.shift()!;
      if (lane.jobs.length > 0) this.turns.push(lane);
      job.start();
    }
  }
}
