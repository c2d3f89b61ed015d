// Generated bad JSON-RPC messages for the hostile-clients scenario, each with the reply it must
// get: not JSON, truncated JSON, wrong types, huge numbers, deep nesting, unknown methods, wrong
// params, batches of bad entries, bad notifications (no reply at all), and huge batches.
import { randomBytes } from "node:crypto";

/** What a line must be answered with: one error (its id, or null), a batch of errors, or nothing. */
export type Expect =
  | { kind: "error"; code: number; id: string | null; dataCode?: string }
  | { kind: "batch"; entries: Array<{ id: string | null; code: number }> }
  | { kind: "none" };

export interface BadMessage {
  kind: string;
  line: Buffer;
  expect: Expect;
}

/** A small seeded generator (mulberry32), so that a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARSE = -32700;
const INVALID_REQUEST = -32600;
const NO_METHOD = -32601;
const INVALID_PARAMS = -32602;

/** Generates bad messages; ids are unique strings prefixed with `tag`. */
export class BadMessages {
  private n = 0;
  constructor(
    private readonly tag: string,
    private readonly random: () => number,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  private id(): string {
    return `${this.tag}-${this.n++}`;
  }

  private json(v: unknown): Buffer {
    return Buffer.from(JSON.stringify(v));
  }

  /** One bad message of a random kind (huge batches and oversize lines are asked for by name). */
  next(): BadMessage {
    const kinds = ["notJson", "binary", "truncated", "wrongTypes", "hugeNumbers", "deepParams", "unknownMethod", "wrongParams", "badBatch", "notification"] as const;
    const kind = this.pick(kinds);
    return { kind, ...this[kind]() };
  }

  notJson(): Omit<BadMessage, "kind"> {
    const text = this.pick(["hello", "{'a':1}", "{\"jsonrpc\":", "[1,2", "}{", "NaN", "undefined", "{\"a\":1,}", "\"unterminated", "01", "--1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}}"]);
    // Followed by " #N", none of these is JSON (and each line differs).
    return { line: Buffer.from(`${text} #${this.n++}`), expect: { kind: "error", code: PARSE, id: null } };
  }

  /** Random bytes (no newline), starting with one that no JSON text starts with. */
  binary(): Omit<BadMessage, "kind"> {
    const body = randomBytes(1 + Math.floor(this.random() * 512)).filter((b) => b !== 0x0a && b !== 0x0d);
    return { line: Buffer.concat([Buffer.from([0xff]), body]), expect: { kind: "error", code: PARSE, id: null } };
  }

  /** A good request cut short: no proper prefix of an object is JSON. */
  truncated(): Omit<BadMessage, "kind"> {
    const full = JSON.stringify({ jsonrpc: "2.0", id: this.id(), method: "events.read", params: { fromSeq: 0, limit: 5 } });
    return { line: Buffer.from(full.slice(0, 1 + Math.floor(this.random() * (full.length - 1)))), expect: { kind: "error", code: PARSE, id: null } };
  }

  /** JSON that is not a request object. An id the daemon can read is echoed. */
  wrongTypes(): Omit<BadMessage, "kind"> {
    const id = this.id();
    const cases: Array<[unknown, string | null]> = [
      [42, null],
      ["ping", null],
      [null, null],
      [true, null],
      [{}, null],
      [[], null],
      [{ jsonrpc: "1.0", id, method: "ping" }, id],
      [{ jsonrpc: 2, id, method: "ping" }, id],
      [{ jsonrpc: "2.0", id, method: 5 }, id],
      [{ jsonrpc: "2.0", id, method: ["ping"] }, id],
      [{ jsonrpc: "2.0", id, method: "ping", params: "x" }, id],
      [{ jsonrpc: "2.0", id, method: "ping", params: 7 }, id],
      [{ jsonrpc: "2.0", id: { a: 1 }, method: "ping" }, null],
    ];
    const [v, echoed] = this.pick(cases);
    return { line: this.json(v), expect: { kind: "error", code: INVALID_REQUEST, id: echoed } };
  }

  /** Numbers far out of range: refused by the params' schema (or, as an id, not an id at all). */
  hugeNumbers(): Omit<BadMessage, "kind"> {
    const id = this.id();
    const huge = this.pick(["1e400", "-1e400", "1e308", "-1e308", "9007199254740993", "1e21", "-0.5", "123456789012345678901234567890"]);
    const cases: Array<[string, Expect]> = [
      [`{"jsonrpc":"2.0","id":"${id}","method":"events.read","params":{"limit":${huge}}}`, { kind: "error", code: INVALID_PARAMS, id }],
      [`{"jsonrpc":"2.0","id":"${id}","method":"worker.stop","params":{"target":"W1","graceMs":${huge}}}`, { kind: "error", code: INVALID_PARAMS, id }],
      [`{"jsonrpc":"2.0","id":"${id}","method":"worker.spawn","params":{"argv":["true"],"cwd":"/","env":{},"restart":{"mode":"always","backoffMaxMs":${huge}}}}`, { kind: "error", code: INVALID_PARAMS, id }],
      [`{"jsonrpc":"2.0","id":"${id}","method":"worker.spawn","params":{"argv":["true"],"cwd":"/","env":{},"timeoutMs":${huge.startsWith("-") ? huge : `-${huge}`}}}`, { kind: "error", code: INVALID_PARAMS, id }],
      [`{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, { kind: "error", code: INVALID_REQUEST, id: null }],
    ];
    const [line, expect] = this.pick(cases);
    return { line: Buffer.from(line), expect };
  }

  /** Params nested past the bound (65…5,000 levels), or a whole line of 100,000 nested arrays. */
  deepParams(): Omit<BadMessage, "kind"> {
    if (this.random() < 0.02) {
      // Far past any depth a request may have: refused unread.
      const d = 100_000;
      const line = this.random() < 0.5 ? `${'{"x":'.repeat(d)}1${"}".repeat(d)}` : `${"[".repeat(d)}${"]".repeat(d)}`;
      return { line: Buffer.from(line), expect: { kind: "error", code: INVALID_REQUEST, id: null } };
    }
    const id = this.id();
    const depth = 65 + Math.floor(this.random() * 5_000);
    const method = this.pick(["events.append", "hook.handle", "ping", "worker.spawn"]);
    return {
      line: Buffer.from(`{"jsonrpc":"2.0","id":"${id}","method":"${method}","params":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`),
      expect: { kind: "error", code: INVALID_PARAMS, id, dataCode: "INVALID_PARAMS" },
    };
  }

  unknownMethod(): Omit<BadMessage, "kind"> {
    const id = this.id();
    const method = this.pick(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "worker", "worker.", "ping.", "events.read.x", "daemon.exec", "x".repeat(10_000), "\u0000", "é🙂", "rpc.discover"]);
    return { line: this.json({ jsonrpc: "2.0", id, method }), expect: { kind: "error", code: NO_METHOD, id } };
  }

  wrongParams(): Omit<BadMessage, "kind"> {
    const id = this.id();
    const cases: Array<[string, unknown]> = [
      ["worker.get", { target: 5 }],
      ["worker.get", {}],
      ["worker.get", { target: "" }],
      ["worker.stop", { target: "W1", bogus: true }],
      ["worker.spawn", { cwd: "/", env: {} }],
      ["worker.spawn", { argv: [], cwd: "/", env: {} }],
      ["worker.spawn", { argv: ["x\u0000y"], cwd: "/", env: {} }],
      ["worker.spawn", { argv: ["true"], cwd: "relative", env: {} }],
      ["worker.spawn", { argv: ["true"], cwd: "/", env: { "A=B": "1" } }],
      ["worker.spawn", { argv: ["true"], cwd: "/", env: {}, name: "../escape" }],
      ["events.append", { type: "worker.exited", payload: {} }],
      ["events.append", { type: "ext.x", payload: "not an object" }],
      ["events.read", { fromSeq: -1 }],
      ["events.read", { limit: "many" }],
      ["ping", { unexpected: 1 }],
      ["hook.handle", { event: "not an object" }],
    ];
    const [method, params] = this.pick(cases);
    return { line: this.json({ jsonrpc: "2.0", id, method, params }), expect: { kind: "error", code: INVALID_PARAMS, id } };
  }

  /** A batch of 1–20 bad entries, some of them notifications (no reply entry). */
  badBatch(): Omit<BadMessage, "kind"> {
    const entries: unknown[] = [];
    const expected: Array<{ id: string | null; code: number }> = [];
    const size = 1 + Math.floor(this.random() * 20);
    for (let i = 0; i < size; i++) {
      const id = this.id();
      const r = this.random();
      if (r < 0.3) {
        entries.push({ jsonrpc: "2.0", id, method: "no.such.method" });
        expected.push({ id, code: NO_METHOD });
      } else if (r < 0.6) {
        entries.push({ jsonrpc: "2.0", id, method: "worker.get", params: { target: 7 } });
        expected.push({ id, code: INVALID_PARAMS });
      } else if (r < 0.8) {
        entries.push({ jsonrpc: "1.0", id, method: "ping" });
        expected.push({ id, code: INVALID_REQUEST });
      } else {
        entries.push({ jsonrpc: "2.0", method: "no.such.method" });
      }
    }
    return { line: this.json(entries), expect: expected.length === 0 ? { kind: "none" } : { kind: "batch", entries: expected } };
  }

  /** A bad call without an id: a notification is never answered, even with an error. */
  notification(): Omit<BadMessage, "kind"> {
    const v = this.pick([
      { jsonrpc: "2.0", method: "no.such.method" },
      { jsonrpc: "2.0", method: "worker.stop", params: { bogus: 1 } },
      { jsonrpc: "2.0", method: "events.read", params: { limit: -5 } },
    ]);
    return { line: this.json(v), expect: { kind: "none" } };
  }

  /** A batch over the 1,000-entry limit: refused whole, the connection kept. */
  hugeBatch(): BadMessage {
    const size = 1_001 + Math.floor(this.random() * 4_000);
    const entries = Array.from({ length: size }, () => ({ jsonrpc: "2.0", id: this.id(), method: "ping" }));
    return { kind: "hugeBatch", line: this.json(entries), expect: { kind: "error", code: INVALID_REQUEST, id: null, dataCode: "MESSAGE_TOO_LARGE" } };
  }
}
