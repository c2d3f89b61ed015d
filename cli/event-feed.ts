// The daemon's record as it grows, for `cpwd events --follow` and `cpwd ui`: one connection with one
// `events.subscribe`, each `events.batch` handed on in order. When the connection is lost (the
// daemon stopped, or dropped a reader that fell too far behind) the feed connects again at once
// and subscribes from the seq after the last one it delivered, so nothing is lost or repeated;
// if no daemon answers, it either ends or keeps trying every `retryMs`.
import type { EventFilter } from "../src/eventlog/event-filter.js";
import { ErrorCode, isCpwdError } from "../src/protocol/errors.js";
import type { EventRecord } from "../src/protocol/events.js";
import { connect, type RpcClient } from "../src/rpc/client.js";

export interface EventFeedOptions {
  socketPath: string;
  /** The first seq wanted. */
  fromSeq: number;
  /** What the daemon filters before sending. */
  filter?: EventFilter;
  /** Each batch, in seq order. */
  onEvents(events: EventRecord[]): void;
  /** Subscribed (again): the daemon's last durable seq at that moment. */
  onUp?(lastSeq: number): void;
  /** The connection was lost. */
  onDown?(): void;
  /** After the daemon goes away, try again this often; null: end instead. @default null */
  retryMs?: number | null;
}

/** A subscription that survives the daemon's restarts when asked to. */
export class EventFeed {
  private client: RpcClient | null = null;
  private nextSeq: number;
  private closed = false;
  private paused = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private endFeed!: () => void;
  /** Resolves once the feed has ended: closed, or the daemon gone and no retrying asked. */
  readonly ended = new Promise<void>((resolve) => (this.endFeed = resolve));

  constructor(private readonly opts: EventFeedOptions) {
    this.nextSeq = Math.max(1, opts.fromSeq);
  }

  /** The next seq the feed will deliver. */
  get next(): number {
    return this.nextSeq;
  }

  /** Connects and subscribes; false when no daemon answers (the feed then retries or ends). */
  async open(): Promise<boolean> {
    if (this.closed) return false;
    let client: RpcClient | null = null;
    try {
      client = await connect(this.opts.socketPath, { connectTimeoutMs: 1_000 });
      const c = client;
      // The only subscription on this connection: every batch on it is ours. (The first batch
      // may be handled before the subscribe call's promise settles, so no id is compared.)
      c.onNotification("events.batch", (p) => this.deliver(p.events as EventRecord[]));
      c.onClose(() => this.lost(c));
      const r = await c.call("events.subscribe", { fromSeq: this.nextSeq, ...this.opts.filter });
      if (this.closed) {
        c.close();
        return false;
      }
      this.client = c;
      if (this.paused) c.pause();
      this.opts.onUp?.(r.lastSeq);
      return true;
    } catch (err) {
      client?.close();
      if (!isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout, ErrorCode.ConnectionClosed, ErrorCode.ShuttingDown)) throw err;
      this.retryOrEnd();
      return false;
    }
  }

  /** Stops reading from the daemon (a slow consumer); the daemon holds back in turn. */
  pause(): void {
    this.paused = true;
    this.client?.pause();
  }

  resume(): void {
    this.paused = false;
    this.client?.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = null;
    this.endFeed();
  }

  private deliver(events: EventRecord[]): void {
    const fresh = events.filter((e) => e.seq >= this.nextSeq);
    if (fresh.length === 0 || this.closed) return;
    this.nextSeq = fresh[fresh.length - 1]!.seq + 1;
    this.opts.onEvents(fresh);
  }

  private lost(client: RpcClient): void {
    if (this.client !== client) return; // not yet subscribed: open() reports it
    this.client = null;
    if (this.closed) return;
    this.opts.onDown?.();
    void this.open().catch(() => this.retryOrEnd());
  }

  private retryOrEnd(): void {
    if (this.closed) return;
    const retryMs = this.opts.retryMs ?? null;
    if (retryMs === null) {
      this.closed = true;
      this.endFeed();
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open().catch(() => this.retryOrEnd());
    }, retryMs);
  }
}
