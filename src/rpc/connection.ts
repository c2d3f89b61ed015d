// One accepted RPC connection and the state it piles up: its queue of complete lines and the pump
// that hands them on a slice per event-loop turn, pausing reading, the unfinished-message
// deadline, the backlog of unsent replies, and its lane at the heavy-work gate. It never parses a
// message: each complete line goes to the server's line handler.
import type { Socket } from "node:net";
import { ErrorCode, RpcCode } from "../protocol/errors.js";
import { errorResponse } from "./envelope.js";
import { frame, LineSplitter } from "./framing.js";
import type { GateLane, HeavyWorkGate } from "./heavy-work-gate.js";
import { PartialMessageDeadline } from "./partial-deadline.js";
import type { TurnScheduler } from "./turn-scheduler.js";

/** Per-connection facts passed to every method call. */
export interface ConnectionInfo {
  connectionId: number;
  /**
   * Runs heavy work (a large read) on this connection's turn at the server's gate: a few such
   * jobs run at once over all connections, connections take turns, and a connection's jobs wait
   * while it is not reading its replies. Rejects without running `work` if the connection closes
   * first (CONNECTION_CLOSED), or if the server closes while the connection is not reading
   * (SHUTTING_DOWN).
   */
  runHeavy<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Sends a JSON-RPC notification (no id) to the client on this connection, as replies are sent:
   * it counts toward the unsent-bytes limit, past which the client is disconnected. Does nothing
   * once the connection is closed.
   */
  notify(method: string, params: unknown): void;
  /** Runs `fn` once when the connection closes (at once if it is closed); returns a canceller. */
  onClose(fn: () => void): () => void;
}

/** Where a connection's replies go, and how much of them it may have waiting. */
export interface ReplySink {
  /** Frames and writes one message. */
  send(msg: unknown): void;
  /** Writes an already framed message (ending in a newline). */
  sendText(text: string): void;
  /** The connection's unsent-bytes limit: no single reply may be larger. */
  maxBytes: number;
  closed(): boolean;
}

/** The RPC layer's log: warnings for what closes a connection, debug for socket noise. */
export interface RpcLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * A connection's limits, defaults applied; each is described on `RpcServerOptions`
 * (`maxPendingCalls` there is `maxPendingCallsPerConnection`).
 */
export interface ConnectionLimits {
  maxMessageBytes: number;
  maxUnsentBytes: number;
  replyHighWaterBytes: number;
  heavyHighWaterBytes: number;
  partialLineTimeoutMs: number;
  linesPerTurn: number;
  maxPendingCalls: number;
}

/**
 * Handles one complete line; returns how many calls it started, and calls `settled` with that
 * number once they are all answered.
 */
export type LineHandler = (text: string, info: ConnectionInfo, out: ReplySink, settled: (calls: number) => void) => number;

/** What a connection is built with. */
export interface ConnectionDeps {
  connectionId: number;
  limits: ConnectionLimits;
  /** The heavy-work gate all connections share. */
  gate: HeavyWorkGate;
  /** The turns of line handling all connections share (a time budget a turn, round-robin). */
  turns: TurnScheduler;
  handleLine: LineHandler;
  log: RpcLog;
  /** The socket closed; the connection has already let go of its queue and its gate lane. */
  onClose(): void;
}

/**
 * Fairness: complete lines wait in `queue` and are handled at most `linesPerTurn` per event-loop
 * turn (setImmediate between slices, so other connections are read in between), and reading
 * pauses while the queue is not empty, too many of this connection's calls are unanswered, or its
 * replies back up past `replyHighWaterBytes` (it goes on at 'drain'); its heavy work waits while
 * more than `heavyHighWaterBytes` of them do. One client's megabyte of pipelined requests never
 * holds up another's ping, and one that does not read its replies is paused instead of buffered
 * for.
 */
export class Connection {
  readonly info: ConnectionInfo;
  private readonly lane: GateLane;
  private readonly partial: PartialMessageDeadline;
  private readonly splitter: LineSplitter;
  private readonly out: ReplySink;
  private readonly limits: ConnectionLimits;
  /** Complete lines not yet handled start at `head` (handled ones are blanked, not shifted). */
  private readonly queue: string[] = [];
  private head = 0;
  /** This connection's calls started and not yet answered. */
  private pendingCalls = 0;
  private sliceScheduled = false;
  /** Complete lines received so far: tells `onData` whether a chunk began a new message. */
  private linesSeen = 0;
  /** Run once at close (subscriptions letting go of this connection). */
  private readonly closeListeners = new Set<() => void>();
  /** Replies framed in this turn, written together at its end (`flushReplies`), and their length. */
  private unsent: string[] = [];
  private unsentChars = 0;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.limits = deps.limits;
    this.lane = deps.gate.lane(() => this.unsentBytes() <= this.limits.heavyHighWaterBytes && !socket.destroyed);
    this.info = {
      connectionId: deps.connectionId,
      runHeavy: (work) => this.lane.run(work),
      notify: (method, params) => this.sendText(frame({ jsonrpc: "2.0", method, params })),
      onClose: (fn) => {
        if (socket.destroyed) {
          fn();
          return () => {};
        }
        this.closeListeners.add(fn);
        return () => this.closeListeners.delete(fn);
      },
    };
    const partialMs = this.limits.partialLineTimeoutMs;
    this.partial = new PartialMessageDeadline(partialMs, () => {
      deps.log.warn({ connectionId: this.info.connectionId, partialMs }, "rpc message left unfinished; closing");
      socket.destroy();
    });
    this.out = {
      send: (msg) => this.sendText(frame(msg)),
      sendText: (text) => this.sendText(text),
      maxBytes: this.limits.maxUnsentBytes,
      closed: () => socket.destroyed,
    };
    this.splitter = new LineSplitter(this.limits.maxMessageBytes, {
      line: (text) => {
        this.linesSeen++;
        this.queue.push(text);
      },
      tooLarge: (bytes) => this.refuseTooLarge(bytes),
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", (err) => deps.log.debug({ connectionId: this.info.connectionId, err }, "rpc socket error"));
    socket.on("close", () => this.onClose());
  }

  /** Half-closes: replies already written still reach the client. */
  end(): void {
    this.flushReplies();
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Too much of its replies waits unsent: the client is not keeping up (or not reading at all). */
  private backlogged(): boolean {
    return this.unsentBytes() > this.limits.replyHighWaterBytes;
  }

  /** Its replies not yet taken by the kernel (near enough: text counted in characters). */
  private unsentBytes(): number {
    return this.socket.writableLength + this.unsentChars;
  }

  /**
   * Replies finished in the same turn (a group commit answers many calls of a connection at once)
   * go out as one socket write at its end, not one write (and syscall) each.
   */
  private sendText(text: string): void {
    if (this.socket.destroyed) return;
    this.unsentChars += text.length;
    if (this.unsent.push(text) === 1) process.nextTick(() => this.flushReplies());
  }

  private flushReplies(): void {
    if (this.unsent.length === 0) return;
    const text = this.unsent.length === 1 ? this.unsent[0]! : this.unsent.join("");
    this.unsent = [];
    this.unsentChars = 0;
    if (this.socket.destroyed) return;
    this.socket.write(text);
    // A client that never reads would make us buffer without end: drop it instead.
    if (this.socket.writableLength > this.limits.maxUnsentBytes) {
      this.deps.log.warn({ connectionId: this.info.connectionId }, "rpc client not reading its replies; closing");
      this.socket.destroy();
    }
  }

  private refuseTooLarge(bytes: number): void {
    const limit = this.limits.maxMessageBytes;
    this.deps.log.warn({ connectionId: this.info.connectionId, bytes }, "rpc message over the size limit; closing");
    this.out.send(
      errorResponse(null, RpcCode.InvalidRequest, `message larger than ${limit} bytes`, { code: ErrorCode.MessageTooLarge, limit }),
    );
    this.flushReplies();
    this.socket.end();
    this.socket.destroySoon();
  }

  private onData(chunk: Buffer): void {
    // A connection with nothing queued is served first (one line) if it must wait for a turn.
    const wasIdle = this.head === this.queue.length;
    const linesBefore = this.linesSeen;
    this.splitter.push(chunk);
    // A slow-loris client that starts a message and never ends it gets a deadline, counted
    // from the message's first byte: more bytes of the same message do not extend it.
    if (this.splitter.pending === 0 || this.socket.destroyed) this.partial.stop();
    else if (this.linesSeen > linesBefore || !this.partial.running) this.partial.start(); // a new message began in this chunk
    if (!this.sliceScheduled) this.pump(wasIdle);
  }

  private onDrain(): void {
    this.lane.wake();
    if (!this.sliceScheduled) this.pump();
  }

  private onClose(): void {
    this.lane.close();
    this.partial.stop();
    this.queue.length = 0;
    this.head = 0;
    this.deps.onClose();
    for (const fn of this.closeListeners) {
      try {
        fn();
      } catch (err) {
        this.deps.log.warn({ connectionId: this.info.connectionId, err }, "a close listener failed");
      }
    }
    this.closeListeners.clear();
  }

  /** `done` of this connection's calls are answered: one more may start (one function, not one a line). */
  private readonly callsAnswered = (done: number): void => {
    this.pendingCalls -= done;
    if (!this.sliceScheduled && this.mayStartCall()) this.scheduleSlice();
  };

  /** A line is waiting and this connection may start another call now. */
  private mayStartCall(): boolean {
    return this.head < this.queue.length && this.pendingCalls < this.limits.maxPendingCalls;
  }

  /** The rest waits for a turn shared with the other connections: first, for one line, if `fresh`. */
  private scheduleSlice(fresh = false): void {
    this.sliceScheduled = true;
    this.deps.turns.enqueue(() => this.pump(), fresh);
  }

  /**
   * Handles a slice of queued lines (as many as the turn's budget allows, at most linesPerTurn),
   * then pauses or resumes reading to match what is left. `fresh`: the connection was idle.
   */
  private pump(fresh = false): void {
    this.sliceScheduled = false;
    let n = 0;
    while (this.mayStartCall() && !this.backlogged() && !this.socket.destroyed) {
      if (n === this.limits.linesPerTurn || !this.deps.turns.mayHandle()) {
        this.scheduleSlice(fresh && n === 0);
        break;
      }
      n++;
      const text = this.queue[this.head]!;
      this.queue[this.head++] = "";
      this.pendingCalls += this.deps.handleLine(text, this.info, this.out, this.callsAnswered);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      if (this.socket.isPaused()) {
        this.socket.resume();
        this.partial.resume();
      }
    } else if (!this.socket.isPaused()) {
      // While we are the ones not reading, the client's unfinished message is not its fault.
      this.socket.pause();
      this.partial.pause();
    }
  }
}
