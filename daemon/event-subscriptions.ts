// Live subscriptions to the record (`events.subscribe`): each sends the durable events its filter
// takes, as `events.batch` notifications on the connection that asked. First the events already
// on disk from `fromSeq` on, a page at a time on the connection's turn at the heavy-work gate
// (which waits while the client is not reading); then, caught up, each batch as the writer commits
// it. Nothing is queued here: a client that stops reading is paused while catching up and, live,
// is disconnected by the connection's unsent-bytes limit like any client that does not read.
import type { EventLog } from "../src/eventlog/append.js";
import { eventMatches, type EventFilter } from "../src/eventlog/event-filter.js";
import { readPage } from "../src/eventlog/read.js";
import { CpwdError, ErrorCode } from "../src/protocol/errors.js";
import type { EventRecord } from "../src/protocol/events.js";
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from "../src/protocol/rpc-core.js";
import type { CallInfo } from "./rpc-table.js";

/** What the subscriptions read and where they report trouble. */
export interface SubscriptionDeps {
  log: EventLog;
  /** events.jsonl */
  file: string;
  /** One notification's events stop growing past about this many bytes of JSON. */
  maxBatchBytes: number;
  warn(obj: object, msg: string): void;
}

/** What a subscription needs of its connection. */
type Channel = Required<Pick<CallInfo, "connectionId" | "notify" | "onClose" | "runHeavy">>;

/** One subscription: where it has got to, and whether it reads from disk or takes live batches. */
class Subscription {
  /** The next seq it may send; everything before it has been sent or passed over. */
  private next: number;
  private mode: "catching-up" | "live" | "closed" = "catching-up";
  private readonly stopListening: () => void;

  constructor(
    readonly id: number,
    private readonly filter: EventFilter,
    fromSeq: number,
    private readonly channel: Channel,
    private readonly deps: SubscriptionDeps,
  ) {
    this.next = Math.max(1, fromSeq);
    this.stopListening = deps.log.subscribe((records) => this.onCommitted(records));
  }

  /** Starts sending once the current turn is over, so the subscribe reply goes out first. */
  start(): void {
    setImmediate(() => void this.catchUp());
  }

  close(): void {
    if (this.mode === "closed") return;
    this.mode = "closed";
    this.stopListening();
  }

  /**
   * Reads from disk until nothing durable is left unsent, then goes live. The switch happens in
   * the same turn as the check against `lastSeq`, and the writer updates `lastSeq` and calls its
   * listeners in one turn too, so no batch falls between the two modes.
   */
  private async catchUp(): Promise<void> {
    while (this.mode === "catching-up") {
      const upToSeq = this.deps.log.lastSeq;
      if (this.next > upToSeq) {
        this.mode = "live";
        return;
      }
      const fromSeq = this.next;
      let page: { events: EventRecord[]; more: boolean };
      try {
        page = await this.channel.runHeavy(() =>
          readPage(this.deps.file, {
            fromSeq,
            limit: 10_000,
            type: this.filter.type,
            ...this.deps.log.liveOffsetFor(fromSeq),
            upToSeq,
            maxBytes: this.deps.maxBatchBytes,
          }),
        );
      } catch (err) {
        // The connection closed, or the daemon is shutting down: nothing to tell anyone.
        if (!(err instanceof CpwdError)) this.deps.warn({ err, subscription: this.id }, "a subscription could not read the record; it ends");
        this.close();
        return;
      }
      if (this.mode !== "catching-up") return;
      this.send(page.events);
      this.next = page.more ? page.events[page.events.length - 1]!.seq + 1 : upToSeq + 1;
    }
  }

  private onCommitted(records: EventRecord[]): void {
    if (this.mode !== "live" || records.length === 0) return;
    this.send(records.filter((e) => e.seq >= this.next));
    this.next = Math.max(this.next, records[records.length - 1]!.seq + 1);
  }

  /** Sends the events the filter takes, in notifications of about `maxBatchBytes` at most. */
  private send(events: EventRecord[]): void {
    let chunk: EventRecord[] = [];
    let bytes = 0;
    for (const e of events) {
      if (!eventMatches(e, this.filter)) continue;
      const size = JSON.stringify(e).length;
      if (chunk.length > 0 && bytes + size > this.deps.maxBatchBytes) {
        this.notify(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) this.notify(chunk);
  }

  private notify(events: EventRecord[]): void {
    if (this.mode !== "closed") this.channel.notify("events.batch", { subscription: this.id, events });
  }
}

/** Every subscription the daemon holds, by connection; a closed connection takes its own along. */
export class EventSubscriptions {
  private nextId = 1;
  private readonly byConnection = new Map<number, { subs: Map<number, Subscription>; cancelOnClose: () => void }>();

  constructor(private readonly deps: SubscriptionDeps) {}

  /** Opens a subscription on the caller's connection; events follow the reply. */
  subscribe(params: EventFilter & { fromSeq?: number | undefined }, call: CallInfo): { subscription: number; lastSeq: number } {
    const channel = channelOf(call);
    let held = this.byConnection.get(channel.connectionId);
    if (held && held.subs.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new CpwdError(ErrorCode.InvalidState, `this connection holds ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions already; unsubscribe one first`);
    }
    if (!held) {
      held = { subs: new Map(), cancelOnClose: () => {} };
      this.byConnection.set(channel.connectionId, held);
      // Runs at once if the connection is already closed, taking `held` out again.
      held.cancelOnClose = channel.onClose(() => this.dropConnection(channel.connectionId));
      if (!this.byConnection.has(channel.connectionId)) throw new CpwdError(ErrorCode.ConnectionClosed, "the connection closed");
    }
    const lastSeq = this.deps.log.lastSeq;
    const filter: EventFilter = { type: params.type, worker: params.worker, session: params.session };
    const sub = new Subscription(this.nextId++, filter, params.fromSeq ?? lastSeq + 1, channel, this.deps);
    held.subs.set(sub.id, sub);
    sub.start();
    return { subscription: sub.id, lastSeq };
  }

  /** Ends one of the caller's subscriptions; NOT_FOUND if it holds no such one. */
  unsubscribe(id: number, call: CallInfo): void {
    const held = this.byConnection.get(call.connectionId);
    const sub = held?.subs.get(id);
    if (!held || !sub) throw new CpwdError(ErrorCode.NotFound, `this connection has no subscription ${id}`);
    sub.close();
    held.subs.delete(id);
    if (held.subs.size === 0) {
      held.cancelOnClose();
      this.byConnection.delete(call.connectionId);
    }
  }

  /** Subscriptions open now, over all connections. */
  get count(): number {
    let n = 0;
    for (const held of this.byConnection.values()) n += held.subs.size;
    return n;
  }

  private dropConnection(connectionId: number): void {
    const held = this.byConnection.get(connectionId);
    if (!held) return;
    for (const sub of held.subs.values()) sub.close();
    this.byConnection.delete(connectionId);
  }
}

/** The caller's connection, which a subscription lives on; a direct call has none. */
function channelOf(call: CallInfo): Channel {
  const { notify, onClose, runHeavy } = call;
  if (!notify || !onClose || !runHeavy) {
    throw new CpwdError(ErrorCode.InvalidState, "events.subscribe needs a connection to send its events on");
  }
  return { connectionId: call.connectionId, notify, onClose, runHeavy };
}
