// Turns of line handling shared by all of a server's connections. Each connection hands on at most
// `linesPerTurn` of its lines at a time, but a flood spread over many connections was many slices
// a turn of the event loop: 20 connections of expensive lines kept a ping waiting behind 1,280 of
// them (over a second on a loaded machine). Here a turn runs the connections' slices in order
// until it has spent its time budget, and what is left waits for the next turn, after the loop has
// read the sockets again; a connection cut short goes to the back, so none starves.
//
// A connection that was idle is served first, but for one line only, and in the order such
// connections arrived. Flooders that send in bursts are idle between them: when each new burst
// went to the very front (last come, first served) and kept the slice until the budget was spent,
// a ping that had arrived first waited behind every burst that came after it: 30-40 ms in the
// hostile-clients chaos scenario, against a few milliseconds now. One line is what a quick
// request (a ping, a hook's call, a status) needs; a burst's other lines wait their turn.
import { performance } from "node:perf_hooks";

/** The scheduler a server's connections share. */
export class TurnScheduler {
  /** Slices of connections that were idle, first come first served, each allowed one line. */
  private readonly fresh: Array<() => void> = [];
  /** Other slices waiting for a turn, in the order they run. */
  private readonly waiting: Array<() => void> = [];
  private turnQueued = false;
  private inTurn = false;
  /** When the running turn's budget is spent. */
  private deadline = 0;
  /** Lines the running slice may still start: one for a fresh slice, else until the deadline. */
  private sliceLines = Infinity;
  /** When handling at once (outside a turn) began in this pass of the loop; null when it has not. */
  private directSince: number | null = null;

  constructor(private readonly budgetMs: number) {}

  /**
   * Asked before each line: may it be handled now? Within a turn, until its budget is spent (a
   * fresh slice: one line). Outside one (a line that has just arrived), at once while no slice
   * waits for a turn and this pass of the loop has not spent a budget that way already; else the
   * connection must `enqueue`.
   */
  mayHandle(): boolean {
    const now = performance.now();
    if (this.inTurn) {
      if (now >= this.deadline || this.sliceLines === 0) return false;
      this.sliceLines--;
      return true;
    }
    if (this.fresh.length > 0 || this.waiting.length > 0) return false;
    if (this.directSince === null) {
      this.directSince = now;
      setImmediate(() => (this.directSince = null));
    }
    return now - this.directSince < this.budgetMs;
  }

  /**
   * Queues a connection's slice for a coming turn. `fresh`: the connection was idle; its slice runs
   * before the others (after earlier fresh ones) with one line, and what it leaves is queued again
   * by the connection as an ordinary slice, at the back.
   */
  enqueue(slice: () => void, fresh: boolean): void {
    (fresh ? this.fresh : this.waiting).push(slice);
    if (!this.turnQueued) {
      this.turnQueued = true;
      setImmediate(() => this.turn());
    }
  }

  /** Runs the slices waiting when it began, fresh ones first, until the budget is spent. */
  private turn(): void {
    this.turnQueued = false;
    this.inTurn = true;
    this.deadline = performance.now() + this.budgetMs;
    try {
      this.runSlices(this.fresh, 1);
      this.runSlices(this.waiting, Infinity);
    } finally {
      this.inTurn = false;
      this.sliceLines = Infinity;
    }
    if (this.fresh.length + this.waiting.length > 0 && !this.turnQueued) {
      this.turnQueued = true;
      setImmediate(() => this.turn());
    }
  }

  /** Runs the slices that were in `queue` when called, in order, each allowed `lines`, until the deadline. */
  private runSlices(queue: Array<() => void>, lines: number): void {
    for (let n = queue.length; n > 0 && performance.now() < this.deadline; n--) {
      this.sliceLines = lines;
      queue.shift()!();
    }
  }
}
