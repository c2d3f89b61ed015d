// Newline-delimited JSON framing: one message a line, UTF-8. Splits a byte stream into lines
// whatever the chunk boundaries, and refuses a line over a byte limit without buffering it all.
import type { JSONRPCResponse } from "json-rpc-2.0";

/** What the splitter reports. `tooLarge` is final: the caller should close the connection. */
export interface LineSink {
  line(text: string): void;
  tooLarge(bytesSoFar: number): void;
}

/**
 * Feeds chunks, emits complete lines (without the newline; a trailing \r is dropped). Works on
 * Buffers so a multi-byte UTF-8 character split across chunks is decoded whole.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  /** Bytes buffered for an incomplete line. */
  get pending(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      if (this.pendingBytes + (nl - start) > this.maxLineBytes) return this.fail(this.pendingBytes + (nl - start));
      // A line inside one chunk (the usual case) is decoded from it directly, with no Buffer made.
      let buf = chunk;
      let from = start;
      let end = nl;
      if (this.parts.length > 0) {
        this.parts.push(chunk.subarray(start, nl));
        buf = Buffer.concat(this.parts);
        this.parts = [];
        this.pendingBytes = 0;
        from = 0;
        end = buf.length;
      }
      if (end > from && buf[end - 1] === 13) end--;
      if (end > from) this.sink.line(buf.toString("utf8", from, end));
      if (this.failed) return;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) return this.fail(this.pendingBytes);
      // Copy: the caller may reuse the chunk's memory.
      this.parts.push(Buffer.from(rest));
    }
  }

  private fail(bytes: number): void {
    this.failed = true;
    this.parts = [];
    this.pendingBytes = 0;
    this.sink.tooLarge(bytes);
  }
}

/**
 * Results whose JSON was made ahead, by whoever had it for less than a JSON.stringify (a page of
 * events read from the record, whose lines are already their JSON). Keyed by the result object:
 * a copy of it (a secret scrubbed out) has none and is serialised as usual.
 */
const jsonTexts = new WeakMap<object, string>();

/** Marks `result` as serialising to `json` (which must be its JSON), and returns it. */
export function withJsonText<T extends object>(result: T, json: string): T {
  jsonTexts.set(result, json);
  return result;
}

/** The JSON made ahead for `result` (`withJsonText`), if any. */
export function jsonTextOf(result: unknown): string | undefined {
  return typeof result === "object" && result !== null ? jsonTexts.get(result) : undefined;
}

/**
 * One reply as JSON: a success reply's envelope is written by hand around its serialised result
 * (a third cheaper than serialising the whole object, on the path of every call; a result's JSON
 * made ahead is used as it is); any other reply as JSON.stringify makes it. The same JSON, in the
 * order json-rpc-2.0 builds a reply in.
 */
export function replyJson(reply: JSONRPCResponse): string {
  if (!("result" in reply) || reply.result === undefined) return JSON.stringify(reply);
  const id = reply.id;
  return `{"jsonrpc":"2.0","id":${typeof id === "number" ? id : JSON.stringify(id)},"result":${jsonTextOf(reply.result) ?? JSON.stringify(reply.result)}}`;
}

/** One reply as a line (`replyJson`). */
export function frameReply(reply: JSONRPCResponse): string {
  return `${replyJson(reply)}\n`;
}

/** Serialises one message as a line. JSON.stringify never emits a raw newline, so this is safe. */
export function frame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
