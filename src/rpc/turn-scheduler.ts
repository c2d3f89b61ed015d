// Turns of line handling shared by all of a server's connections. Each connection hands on at most
// `linesPerTurn` of its lines at a time, but a flood spread over many connections was many slices
// a turn of the event loop: 20 connections of expensive lines kept a ping waiting behind 1,280 of
// them (over a second on a loaded machine). Here a turn runs the connections' slices in order
// until it has spent its time budget, and what is left waits for the next turn, after the loop has
// read the sockets again. A connection that was idle goes to the front, one cut short to the back:
// a well-behaved client waits about one budget, however many connections flood, and none starves.
import { performance } from "node:perf_hooks";

/** The scheduler a server's connections share. */
export class TurnScheduler {
  /** Slices waiting for a turn, in the order they run. */
  private readonly waiting: Array<() => void> = [];
  private turnQueued = false;
  private inTurn = false;
  /** When the running turn's budget is spent. */
  private deadline = 0;
  /** When handling at once (outside a turn) began in this pass of the loop; null when it has not. */
  private directSince: number | null = null;

  constructor(private readonly budgetMs: number) {}

  /**
   * Asked before each line: may it be handled now? Within a turn, until its budget is spent.
   * Outside one (a line that has just arrived), at once while no slice waits for a turn and this
   * pass of the loop has not spent a budget that way already; else the connection must `enqueue`.
   */
  mayHandle(): boolean {
    const now = performance.now();
    if (this.inTurn) return now < this.deadline;
    if (this.waiting.length > 0) return false;
    if (this.directSince === null) {
      this.directSince = now;
      setImmediate(() => (this.directSince = null));
    }
    return now - this.directSince < this.budgetMs;
  }

  /** Queues a connection's slice for a coming turn: at the front when `urgent` (it was idle), else at the back. */
  enqueue(slice: () => void, urgent: boolean): void {
    if (urgent) this.waiting.unshift(slice);
    else this.waiting.push(slice);
    if (!this.turnQueued) {
      this.turnQueued = true;
      setImmediate(() => this.turn());
    }
  }

  /** Runs the slices waiting when it began, in order, until the budget is spent. */
  private turn(): void {
    this.turnQueued = false;
    this.inTurn = true;
    this.deadline = performance.now() + this.budgetMs;
    try {
      for (let n = this.waiting.length; n > 0 && performance.now() < this.deadline; n--) this.waiting.shift()!();
    } finally {
      this.inTurn = false;
    }
    if (this.waiting.length > 0 && !this.turnQueued) {
      this.turnQueued = true;
      setImmediate(() => this.turn());
    }
  }
}
