// When the replies finished in one turn of the event loop are written: at its end, one socket write
// a connection, for all of a server's connections together (a group commit answers calls of many
// connections at once, and a connection's several calls in one write).

/** A connection whose replies wait in its own buffer. */
export interface ReplyBuffer {
  /** Writes what waits (in one write). */
  flushReplies(): void;
}

/** The connections with replies waiting, written out once this turn's callbacks and their microtasks are done. */
export class ReplyFlush {
  private due: ReplyBuffer[] = [];
  private readonly flushAll = (): void => {
    const due = this.due;
    this.due = [];
    for (let i = 0; i < due.length; i++) due[i]!.flushReplies();
  };

  /** `buffer` has just begun to hold replies: it is written with the others at the end of the turn. */
  add(buffer: ReplyBuffer): void {
    // One tick for them all, not one a connection: at one call in flight a commit answers one
    // call on each of dozens of connections.
    if (this.due.push(buffer) === 1) process.nextTick(this.flushAll);
  }
}
