// The writer of events.jsonl. Appends are group-committed: everything handed in while the previous
// batch is being written goes out as one write() and one fdatasync(), and each caller's promise
// resolves only once its events are durable. seq is assigned at write time, in file order.
import { open, type FileHandle } from "node:fs/promises";
import { checkEventPayload, EVENT_VERSION, type EventInput, type EventRecord } from "../protocol/events.js";
import { serializeEvent } from "./record.js";
import { SeqIndex } from "./seq-index.js";

interface Pending {
  inputs: EventInput[];
  resolve: (records: EventRecord[]) => void;
  reject: (err: unknown) => void;
}

export interface EventLogStats {
  lastSeq: number;
  eventCount: number;
  sizeBytes: number;
  /** Batches written (one fdatasync each). */
  commits: number;
}

export interface EventLogOptions {
  /** fdatasync each batch. Off only for benchmarks that measure the cost of durability. @default true */
  durable?: boolean;
  now?: () => Date;
}

/** The single writer of one log file. Open with `EventLog.open` after recovery. */
export class EventLog {
  private pending: Pending[] = [];
  private flushing = false;
  private closed = false;
  private readonly listeners = new Set<(records: EventRecord[]) => void>();
  private commits = 0;

  private constructor(
    private readonly fh: FileHandle,
    private lastSeqValue: number,
    private eventCountValue: number,
    private sizeBytes: number,
    readonly index: SeqIndex,
    private readonly opts: Required<EventLogOptions>,
  ) {}

  /** Opens `file` for appending, continuing after `lastSeq` (from the start-up scan). */
  static async open(
    file: string,
    state: { lastSeq: number; eventCount: number; sizeBytes: number; index: SeqIndex },
    opts: EventLogOptions = {},
  ): Promise<EventLog> {
    const fh = await open(file, "a", 0o600);
    return new EventLog(fh, state.lastSeq, state.eventCount, state.sizeBytes, state.index, {
      durable: opts.durable ?? true,
      now: opts.now ?? (() => new Date()),
    });
  }

  get lastSeq(): number {
    return this.lastSeqValue;
  }

  stats(): EventLogStats {
    return { lastSeq: this.lastSeqValue, eventCount: this.eventCountValue, sizeBytes: this.sizeBytes, commits: this.commits };
  }

  /**
   * Queues events for the next group commit. Rejects at once (nothing written) if a payload does
   * not match its type's schema; rejects if the write or fdatasync fails.
   */
  append(inputs: EventInput[]): Promise<EventRecord[]> {
    if (this.closed) return Promise.reject(new Error("event log is closed"));
    if (inputs.length === 0) return Promise.resolve([]);
    try {
      for (const input of inputs) checkEventPayload(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let producers running in this turn of the event loop join the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Called with each durable batch, in seq order (followers, digests). */
  subscribe(listener: (records: EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const firstSeq = this.lastSeqValue + 1;
      const records: EventRecord[][] = [];
      const lines: string[] = [];
      const offsets: number[] = [];
      let seq = this.lastSeqValue;
      let offset = this.sizeBytes;
      const ts = this.opts.now().toISOString();
      for (const p of batch) {
        const out: EventRecord[] = [];
        for (const input of p.inputs) {
          const rec: EventRecord = {
            v: EVENT_VERSION,
            seq: ++seq,
            ts: input.ts ?? ts,
            type: input.type,
            source: input.source ?? "daemon",
            ...(input.worker !== undefined ? { worker: input.worker } : {}),
            ...(input.session !== undefined ? { session: input.session } : {}),
            payload: input.payload,
          };
          const line = serializeEvent(rec);
          out.push(rec);
          lines.push(line);
          offsets.push(offset);
          offset += Buffer.byteLength(line);
        }
        records.push(out);
      }
      const buf = Buffer.from(lines.join(""));
      try {
        await this.writeAll(buf);
        if (this.opts.durable) await this.fh.datasync();
      } catch (err) {
        // A partial write would leave a torn line that later appends land after: cut it now.
        await this.fh.truncate(this.sizeBytes).catch(() => {});
        for (const p of batch) p.reject(err);
        continue;
      }
      this.commits++;
      this.lastSeqValue = seq;
      this.eventCountValue += lines.length;
      this.sizeBytes = offset;
      for (let i = 0; i < lines.length; i++) this.index.note(firstSeq + i, offsets[i]!);
      const all = records.flat();
      batch.forEach((p, i) => p.resolve(records[i]!));
      for (const l of this.listeners) {
        try {
          l(all);
        } catch {
          // a listener's bug must not break the writer
        }
      }
    }
    this.flushing = false;
  }

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  /** Waits for queued appends to be durable, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    this.closed = true;
    await this.fh.close();
  }
}
