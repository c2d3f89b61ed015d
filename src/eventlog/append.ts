// The writer of events.jsonl. Appends are group-committed: everything handed in while the previous
// batch is being written goes out as one write() and one fdatasync(), and each caller's promise
// resolves only once its events are durable. seq is assigned at write time, in file order.
//
// No input can wedge the writer: each payload is checked and serialised when it is handed in, so a
// value that cannot become a line (nested too deep, too large, a BigInt, a cycle) is refused to its
// own caller and never reaches a batch; and a failed write (a full disk) rejects only that batch,
// with an IO error, and leaves the log as it was for the next one.
import { writeSync } from "node:fs";
import { open, statfs, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { CpwdError, ErrorCode } from "../protocol/errors.js";
import { checkEventPayload, EVENT_VERSION, type EventInput, type EventRecord } from "../protocol/events.js";
import { exceedsDepth, MAX_JSON_DEPTH } from "../protocol/json-bounds.js";
import type { SecretMask } from "../protocol/secret-mask.js";
import { LineEncoder, MAX_EVENT_PAYLOAD_BYTES } from "./record.js";
import { closeLiveFile, type ClosedSegment, type RotationPolicy } from "./close-segment.js";
import { segmentPath } from "./segments.js";
import { SeqIndex } from "./seq-index.js";

export type { ClosedSegment, RotationFailure, RotationPolicy } from "./close-segment.js";

export { MAX_EVENT_PAYLOAD_BYTES } from "./record.js";

/**
 * After a failed write, writing resumes only once the file system has this much free: a disk that
 * is full stays "full" until space is really freed, rather than taking a small line now and
 * refusing the next large one.
 */
const RESUME_FREE_BYTES = 1024 * 1024;

/** A batch up to this size is written from the daemon's thread (see `writeAll`). */
const SYNC_WRITE_MAX_BYTES = 256 * 1024;

/** An input checked and with its payload already serialised (the expensive part, done once). */
export interface Prepared {
  input: EventInput;
  payloadJson: string;
}

interface Pending {
  inputs: Prepared[];
  resolve: (records: EventRecord[]) => void;
  reject: (err: unknown) => void;
}

/** Why the log cannot be written, while that lasts: shown by `status`, cleared by the next good write. */
export interface WriteFailure {
  /** The errno code (ENOSPC, EDQUOT, EIO, …). */
  errno: string;
  message: string;
  /** ms since the epoch of the first failure in this run of failures. */
  sinceMs: number;
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
  /** Secret values to keep out of the file (src/protocol/secret-mask.ts); the records handed back keep them. */
  mask?: SecretMask;
}

/** The single writer of one log file. Open with `EventLog.open` after recovery. */
export class EventLog {
  private pending: Pending[] = [];
  private flushing = false;
  private closed = false;
  private readonly listeners = new Set<(records: EventRecord[]) => void>();
  private commits = 0;
  private failure: WriteFailure | null = null;
  private rotation: RotationPolicy | null = null;
  /** The seq of the live file's first event (lastSeq + 1 while it is empty). */
  private firstSeqValue: number;
  /** Rotations failed in a row, and when (ms since the epoch) the next may be tried. */
  private rotationFailures = 0;
  private rotationRetryAtMs = 0;
  private readonly encoder = new LineEncoder();

  private constructor(
    private readonly file: string,
    /** Null only when a rotation could not reopen the live file: the next commit tries again. */
    private fh: FileHandle | null,
    private lastSeqValue: number,
    private eventCountValue: number,
    private sizeBytes: number,
    private indexValue: SeqIndex,
    private readonly opts: Required<Omit<EventLogOptions, "mask">> & Pick<EventLogOptions, "mask">,
    firstSeq: number,
  ) {
    this.firstSeqValue = firstSeq;
  }

  /**
   * Opens `file` for appending, continuing after `lastSeq` (from the start-up scan). `firstSeq`:
   * the seq of the file's first event (lastSeq + 1 when it is empty; earlier ones are in segments).
   */
  static async open(
    file: string,
    state: { lastSeq: number; eventCount: number; sizeBytes: number; index: SeqIndex; firstSeq?: number },
    opts: EventLogOptions = {},
  ): Promise<EventLog> {
    const fh = await open(file, "a", 0o600);
    const firstSeq = state.firstSeq ?? (state.sizeBytes > 0 ? 1 : state.lastSeq + 1);
    return new EventLog(file, fh, state.lastSeq, state.eventCount, state.sizeBytes, state.index, {
      durable: opts.durable ?? true,
      now: opts.now ?? (() => new Date()),
      ...(opts.mask ? { mask: opts.mask } : {}),
    }, firstSeq);
  }

  /** Sparse seq → byte offset index of the live file (a new one after each rotation). */
  get index(): SeqIndex {
    return this.indexValue;
  }

  /**
   * Where to start reading the live file for `seq` (the index's offset), with the first seq of the
   * file it belongs to: `readPage` uses the offset only while events.jsonl is still that file.
   */
  liveOffsetFor(seq: number): { startOffset: number; startFirstSeq: number } {
    return { startOffset: this.indexValue.offsetFor(seq), startFirstSeq: this.firstSeqValue };
  }

  /** The seq of the live file's first event; earlier events are in closed segments. */
  get firstSeq(): number {
    return this.firstSeqValue;
  }

  /**
   * Rotates the live file by size from now on (daemon/rotate-event-log.ts says how and why); a
   * live file already past the size is closed at once.
   */
  rotateBy(policy: RotationPolicy): void {
    this.rotation = policy;
    if (this.sizeBytes >= policy.maxBytes && !this.flushing && !this.closed) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /** The current write failure (disk full…), or null while appends succeed. */
  get writeFailure(): WriteFailure | null {
    return this.failure;
  }

  stats(): EventLogStats {
    return { lastSeq: this.lastSeqValue, eventCount: this.eventCountValue, sizeBytes: this.sizeBytes, commits: this.commits };
  }

  /**
   * Queues events for the next group commit. Rejects at once (nothing written) if a payload does
   * not match its type's schema or cannot be serialised within bounds; rejects with an IO
   * CpwdError if the write or fdatasync fails.
   */
  append(inputs: EventInput[]): Promise<EventRecord[]> {
    if (this.closed) return Promise.reject(new Error("event log is closed"));
    if (inputs.length === 0) return Promise.resolve([]);
    let prepared: Prepared[];
    try {
      prepared = inputs.map(prepareEvent);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ inputs: prepared, resolve, reject });
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
    try {
      for (;;) {
        const policy = this.rotation;
        if (policy && this.sizeBytes >= policy.maxBytes && Date.now() >= this.rotationRetryAtMs) await this.closeSegment(policy);
        if (this.pending.length === 0) break;
        const batch = this.pending;
        this.pending = [];
        // A plain await, not `.catch()`: each extra promise hop lets a whole batch's worth of
        // reply callbacks run before the next batch is written.
        try {
          await this.commit(batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Writes one batch as one write + fdatasync; resolves its callers, or throws for them all. */
  private async commit(batch: Pending[]): Promise<void> {
    const firstSeq = this.lastSeqValue + 1;
    // Every record of the batch, in seq order: the listeners get this array, and each caller the
    // slice of it that is theirs.
    const all: EventRecord[] = [];
    const lines: string[] = [];
    let seq = this.lastSeqValue;
    const ts = this.opts.now().toISOString();
    for (const p of batch) {
      // Indexed, not for-of with destructuring: this loop runs once an event.
      for (let i = 0; i < p.inputs.length; i++) {
        const { input, payloadJson } = p.inputs[i]!;
        const rec = recordOf(input, ++seq, ts);
        all.push(rec);
        lines.push(this.encoder.line(rec, payloadJson));
      }
    }
    const text = this.redact(lines);
    const buf = Buffer.from(text);
    if (this.failure?.errno === "ENOSPC" && !(await this.hasRoom())) throw this.failureError(this.failure.errno);
    let fh: FileHandle | null = null;
    try {
      fh = this.fh ?? (this.fh = await open(this.file, "a", 0o600));
      await this.writeAll(fh, buf);
      if (this.opts.durable) await fh.datasync();
    } catch (err) {
      // A partial write would leave a torn line that later appends land after: cut it now.
      await fh?.truncate(this.sizeBytes).catch(() => {});
      const errno = (err as NodeJS.ErrnoException).code ?? "EIO";
      this.failure ??= { errno, message: (err as Error).message, sinceMs: Date.now() };
      throw this.failureError(errno, err);
    }
    this.failure = null;
    this.commits++;
    this.lastSeqValue = seq;
    this.eventCountValue += lines.length;
    this.noteOffsets(firstSeq, lines, buf, buf.length === text.length);
    this.sizeBytes += buf.length;
    let at = 0;
    for (const p of batch) {
      const n = p.inputs.length;
      p.resolve(n === 1 ? [all[at]!] : all.slice(at, at + n));
      at += n;
    }
    for (const l of this.listeners) {
      try {
        l(all);
      } catch {
        // a listener's bug must not break the writer
      }
    }
  }

  /**
   * Tells the seq index where each of the batch's lines starts. Text all ASCII (as many bytes as
   * characters: the usual case) is measured by its lines' lengths; else each line's end is found
   * from the written bytes' newlines (every line ends in its one newline: JSON never holds a raw
   * one), cheaper than measuring each line's UTF-8 length.
   */
  private noteOffsets(firstSeq: number, lines: string[], buf: Buffer, ascii: boolean): void {
    for (let i = 0, at = 0; i < lines.length; i++) {
      this.index.note(firstSeq + i, this.sizeBytes + at);
      at = ascii ? at + lines[i]!.length : buf.indexOf(10, at) + 1;
    }
  }

  /**
   * Closes the live file between two commits: renamed into `segments/` as it is (every byte of it
   * durable already), a new empty live file opened, and `onClosed` told (src/eventlog/close-segment.ts
   * does the renames). A failure is told to `onError` and tried again after a backoff, not after
   * every commit; the writer never stays without a handle it knows of (a missing one is reopened
   * by the next commit, which fails with the IO error while it cannot be).
   */
  private async closeSegment(policy: RotationPolicy): Promise<void> {
    if (!this.fh) return;
    const closed: ClosedSegment = { file: segmentPath(this.file, this.firstSeqValue, this.lastSeqValue), firstSeq: this.firstSeqValue, lastSeq: this.lastSeqValue };
    const outcome = await closeLiveFile(this.file, this.fh, closed.file, policy.onStep);
    this.fh = outcome.fh;
    let error = outcome.error;
    if (outcome.rotated) {
      this.sizeBytes = 0;
      this.indexValue = new SeqIndex();
      this.firstSeqValue = this.lastSeqValue + 1;
      try {
        policy.onClosed(closed);
      } catch (err) {
        error ??= err;
      }
    }
    if (error === null) {
      this.rotationFailures = 0;
      this.rotationRetryAtMs = 0;
      return;
    }
    this.rotationFailures++;
    const retryInMs = Math.min(policy.retryMaxMs ?? 300_000, (policy.retryMinMs ?? 1000) * 2 ** Math.min(this.rotationFailures - 1, 30));
    this.rotationRetryAtMs = Date.now() + retryInMs;
    try {
      policy.onError?.(error, { attempts: this.rotationFailures, retryInMs, rotated: outcome.rotated });
    } catch {
      // a listener's bug must not break the writer
    }
  }

  /**
   * The batch's text with every secret value replaced. A batch that holds none (the rule) is
   * looked through once as a whole, not line by line: a secret's JSON-escaped form holds no raw
   * newline, so it cannot straddle two lines. Otherwise each line that may hold one is parsed,
   * scrubbed and serialised again (`lines` is changed to match, for the offsets).
   */
  private redact(lines: string[]): string {
    const text = lines.join("");
    const mask = this.opts.mask;
    if (!mask || mask.size === 0 || !mask.mayHold(text)) return text;
    for (let i = 0; i < lines.length; i++) {
      if (mask.mayHold(lines[i]!)) lines[i] = `${JSON.stringify(mask.scrub(JSON.parse(lines[i]!)))}\n`;
    }
    return lines.join("");
  }

  /** Whether the log's file system has RESUME_FREE_BYTES free (true when that cannot be told). */
  private async hasRoom(): Promise<boolean> {
    try {
      const st = await statfs(dirname(this.file));
      return st.bavail * st.bsize >= RESUME_FREE_BYTES;
    } catch {
      return true;
    }
  }

  private failureError(errno: string, cause?: unknown): CpwdError {
    return new CpwdError(ErrorCode.Io, `the event log cannot be written (${describeErrno(errno)}); nothing was recorded`, {
      ...(cause === undefined ? {} : { cause }),
      details: { errno },
    });
  }

  /**
   * Writes the batch. Up to SYNC_WRITE_MAX_BYTES it is written from this thread: a write into the
   * page cache takes microseconds, where a thread-pool write made the fdatasync wait until the
   * event loop came back to its completion (1.2 ms median under the events bench, with the loop
   * busy reading the next batch's requests); a larger batch is written from the pool.
   */
  private async writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
    let off = 0;
    if (buf.length <= SYNC_WRITE_MAX_BYTES) {
      while (off < buf.length) {
        const n = writeSync(fh.fd, buf, off, buf.length - off);
        // A write that takes nothing and reports no error would loop for ever: fail the batch.
        if (n <= 0) throw Object.assign(new Error("the event log's write wrote nothing"), { code: "EIO" });
        off += n;
      }
      return;
    }
    while (off < buf.length) {
      const { bytesWritten } = await fh.write(buf, off, buf.length - off);
      if (bytesWritten <= 0) throw Object.assign(new Error("the event log's write wrote nothing"), { code: "EIO" });
      off += bytesWritten;
    }
  }

  /** Waits for queued appends to be durable, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    this.closed = true;
    await this.fh?.close();
  }
}

/**
 * The record of `input` as event `seq`, keys in the line's order (subscribers get the record as
 * JSON); worker and session only when present, without two objects to spread in the common case
 * of neither.
 */
function recordOf(input: EventInput, seq: number, ts: string): EventRecord {
  if (input.worker === undefined && input.session === undefined) {
    return { v: EVENT_VERSION, seq, ts: input.ts ?? ts, type: input.type, source: input.source ?? "daemon", payload: input.payload };
  }
  return {
    v: EVENT_VERSION,
    seq,
    ts: input.ts ?? ts,
    type: input.type,
    source: input.source ?? "daemon",
    ...(input.worker !== undefined ? { worker: input.worker } : {}),
    ...(input.session !== undefined ? { session: input.session } : {}),
    payload: input.payload,
  };
}

/**
 * Checks one input and serialises its payload; throws a ZodError for a payload that fails its
 * type's schema, else a CpwdError naming what is wrong.
 */
export function prepareEvent(input: EventInput): Prepared {
  checkEventPayload(input);
  // The payload sits one level inside its line, and a line is bounded like any message.
  if (exceedsDepth(input.payload, MAX_JSON_DEPTH - 1)) {
    throw new CpwdError(ErrorCode.InvalidArgument, `${input.type} payload is nested too deeply (a record may nest at most ${MAX_JSON_DEPTH} levels)`);
  }
  let payloadJson: string;
  try {
    payloadJson = JSON.stringify(input.payload);
  } catch (err) {
    throw new CpwdError(ErrorCode.InvalidArgument, `${input.type} payload cannot be serialised as JSON: ${(err as Error).message}`);
  }
  if (payloadJson.length > MAX_EVENT_PAYLOAD_BYTES) {
    throw new CpwdError(ErrorCode.MessageTooLarge, `${input.type} payload is larger than ${MAX_EVENT_PAYLOAD_BYTES} bytes`);
  }
  return { input, payloadJson };
}

const ERRNO_MEANING: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EIO: "an I/O error",
  EROFS: "the file system is read-only",
  EFBIG: "the file is too large",
};

function describeErrno(errno: string): string {
  return ERRNO_MEANING[errno] ? `${errno}: ${ERRNO_MEANING[errno]}` : errno;
}
