// The RPC method table: binds each method's schemas (src/protocol) to its handler, validates
// params, and is the one place a CpwdError (or any throw) becomes a JSON-RPC error on the wire.
import { JSONRPCErrorException, type JSONRPCError, type JSONRPCID, type JSONRPCRequest, type JSONRPCResponse } from "json-rpc-2.0";
import type { Logger } from "pino";
import { z } from "zod";
import { APP_RPC_CODE, CpwdError, ErrorCode, RpcCode } from "../src/protocol/errors.js";
import { exceedsDepth, MAX_JSON_DEPTH, TOO_DEEP_MESSAGE } from "../src/protocol/json-bounds.js";
import type { MethodSpec } from "../src/protocol/rpc-method-spec.js";
import type { SecretMask } from "../src/protocol/secret-mask.js";
import { jsonTextOf } from "../src/rpc/framing.js";

/** Per-call facts a handler may use. */
export interface CallInfo {
  /** Which connection sent the request (for logs and per-client state). */
  connectionId: number;
  /**
   * Runs heavy work (a large read) on the connection's turn: see `ConnectionInfo.runHeavy` in
   * src/rpc/connection.ts. Absent when a handler is called directly.
   */
  runHeavy?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Sends a notification on the connection (`ConnectionInfo.notify`). Absent when called directly. */
  notify?: (method: string, params: unknown) => void;
  /** Runs `fn` when the connection closes; returns a canceller (`ConnectionInfo.onClose`). */
  onClose?: (fn: () => void) => () => void;
}

/** A handler gets validated params and returns a value its result schema accepts. */
export type Handler<S extends MethodSpec> = (
  params: z.output<S["params"]>,
  call: CallInfo,
) => Promise<z.input<S["result"]>> | z.input<S["result"]>;

export type Handlers<T extends Record<string, MethodSpec>> = { [K in keyof T]: Handler<T[K]> };

/** One area's methods: the specs and the handlers for them. */
export interface MethodGroup<T extends Record<string, MethodSpec>> {
  specs: T;
  handlers: Handlers<T>;
  /** Cheap exact checks of some methods' params, tried before the schema (`ParamsFastPath`). */
  fastParams?: { [K in keyof T]?: ParamsFastPath<T[K]> };
}

/**
 * A method ready to serve. Its handler's types are erased here, safely: `handle` checks the raw
 * params against the method's schema before the handler sees them.
 */
export interface BoundMethod {
  name: string;
  /** The result, or a promise of it; throws (or rejects) with the refusal. */
  handle(rawParams: unknown, call: CallInfo): Promise<unknown> | unknown;
}

/** Formats a zod error as "field: why; field: why" for a -32602 message. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "params"}: ${i.message}`)
    .join("; ");
}

/** Errno codes of a file system that cannot take a write (a full disk): the client's IO, not a bug. */
const WRITE_ERRNOS: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT", "EIO", "EROFS", "EFBIG"]);

/**
 * A wire error made without a stack trace: it only becomes a reply (a handler's own error, logged
 * with its stack, is another object), and capturing a stack for every refused call was the largest
 * cost after JSON.parse in a profile of the daemon under hostile load (issue 11: ~311 ms self time).
 */
function wireError(message: string, code: number, data?: unknown): JSONRPCErrorException {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new JSONRPCErrorException(message, code, data);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Maps anything a handler threw to the wire error json-rpc-2.0 sends. */
function toWireError(err: unknown, log: Logger, method: string): JSONRPCErrorException {
  if (err instanceof JSONRPCErrorException) return err;
  if (err instanceof CpwdError) {
    return wireError(err.message, APP_RPC_CODE[err.code], { code: err.code, ...err.details });
  }
  // A worker's folder or spec.json that could not be written on a full disk, say.
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === "string" && WRITE_ERRNOS.has(errno)) {
    log.warn({ err, method }, "rpc handler could not write");
    return wireError(`${method}: cpwd could not write its files (${(err as Error).message})`, APP_RPC_CODE[ErrorCode.Io], { code: ErrorCode.Io, errno });
  }
  // A bug, not a client's fault: log it with the stack, answer without leaking internals.
  log.error({ err, method }, "rpc handler failed");
  return wireError(`internal error in ${method}`, APP_RPC_CODE[ErrorCode.Internal], {
    code: ErrorCode.Internal,
  });
}

/**
 * A check of raw params that is exact but cheaper than the schema, for a hot method: when it
 * passes, the params are what the schema would output (already parsed); when it fails, the schema
 * runs and gives the error. It never decides an error itself.
 */
export type ParamsFastPath<S extends MethodSpec> = (rawParams: unknown) => rawParams is z.output<S["params"]>;

/** Binds one handler to its spec: rejects params that are too deep or that the schema refuses. */
function bindMethod<S extends MethodSpec>(name: string, spec: S, handler: Handler<S>, fast?: ParamsFastPath<S>): BoundMethod {
  if (typeof handler !== "function") throw new Error(`RPC method ${name} has no handler`);
  // Not async: a method answered by a promise of its own (events.append) costs no extra one, and a
  // refusal throws at once (the table turns it into the error reply).
  const handle = (rawParams: unknown, call: CallInfo): Promise<unknown> | unknown => {
    if (fast?.(rawParams)) return handler(rawParams, call);
    // Before anything walks the params: a value nested thousands deep overflows the stack of
    // whatever serialises it next (the event log's writer, a reply).
    if (exceedsDepth(rawParams, MAX_JSON_DEPTH - 1)) {
      throw wireError(TOO_DEEP_MESSAGE, RpcCode.InvalidParams, {
        code: ErrorCode.InvalidParams,
        maxDepth: MAX_JSON_DEPTH,
      });
    }
    // The schema's type named, not inferred: inference widens it to ZodType and the data to unknown.
    const parsed = z.safeParse<S["params"]>(spec.params, rawParams ?? undefined);
    if (!parsed.success) {
      throw wireError(`invalid params: ${describeZodError(parsed.error)}`, RpcCode.InvalidParams, {
        code: ErrorCode.InvalidParams,
        issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      });
    }
    return handler(parsed.data, call);
  };
  return { name, handle };
}

/** Binds each method of a group to its handler, so groups of different methods can be served together. */
export function bindGroup<T extends Record<string, MethodSpec>>(group: MethodGroup<T>): BoundMethod[] {
  const methods: BoundMethod[] = [];
  for (const name in group.specs) methods.push(bindMethod(name, group.specs[name], group.handlers[name], group.fastParams?.[name]));
  return methods;
}

/** A wire error as the reply carries it: `data` left out when there is none. */
function errorReply(id: JSONRPCID, err: JSONRPCErrorException): JSONRPCResponse {
  const error: JSONRPCError = { code: err.code, message: err.message };
  if (err.data != null) error.data = err.data;
  return { jsonrpc: "2.0", id, error };
}

/**
 * The daemon's methods by name, answering one request at a time (the RPC server handles lines and
 * batches). Its replies are json-rpc-2.0's, byte for byte: "Method not found" (-32601), "Invalid
 * Request" for a request that carries `result` or `error`, no reply to a notification, a result
 * of `undefined` sent as null. It replaced that library's server on the hot path: per call the
 * library ran three generator-based async functions and a middleware closure, which cost more
 * than the method itself for `events.append`.
 */
export class MethodTable {
  private readonly methods = new Map<string, BoundMethod["handle"]>();

  constructor(
    groups: BoundMethod[][],
    private readonly log: Logger,
    private readonly mask?: SecretMask,
  ) {
    for (const { name, handle } of groups.flat()) {
      if (this.methods.has(name)) throw new Error(`duplicate RPC method ${name}`);
      this.methods.set(name, handle);
    }
  }

  hasMethod(name: string): boolean {
    return this.methods.has(name);
  }

  /**
   * `result` with every secret value scrubbed out. A result whose JSON was made ahead
   * (`withJsonText`) is sent as that JSON only when neither the result nor the JSON shows a
   * secret; else as a copy, which is serialised afresh.
   */
  private masked(result: unknown): unknown {
    if (!this.mask) return result;
    const scrubbed = this.mask.scrub(result);
    if (scrubbed !== result) return scrubbed;
    const json = jsonTextOf(result);
    return json !== undefined && this.mask.mayHold(json) ? { ...(result as object) } : result;
  }

  /** The reply to one request, or null for a notification. Never rejects. */
  receive(request: JSONRPCRequest, call: CallInfo): Promise<JSONRPCResponse | null> {
    const id = request.id;
    const r = request as { result?: unknown; error?: unknown };
    if (r.result !== undefined || r.error !== undefined) {
      const replyId = typeof id === "string" || typeof id === "number" || id === null ? id : null;
      return Promise.resolve({ jsonrpc: "2.0", id: replyId, error: { code: RpcCode.InvalidRequest, message: "Invalid Request" } });
    }
    const handle = this.methods.get(request.method);
    if (!handle) {
      return Promise.resolve(id === undefined ? null : { jsonrpc: "2.0", id, error: { code: RpcCode.MethodNotFound, message: "Method not found" } });
    }
    const method = request.method;
    const fail = (err: unknown): JSONRPCResponse | null => {
      // A params error is a JSONRPCErrorException already and passes through unchanged.
      const wire = toWireError(err, this.log, method);
      return id === undefined ? null : errorReply(id, wire);
    };
    let out: Promise<unknown> | unknown;
    try {
      out = handle(request.params, call);
    } catch (err) {
      return Promise.resolve(fail(err));
    }
    return Promise.resolve(out).then((result) => {
      if (id === undefined) return null;
      try {
        return { jsonrpc: "2.0", id, result: this.masked(result) ?? null };
      } catch (err) {
        return fail(err);
      }
    }, fail);
  }
}

/**
 * Builds the table serving the given groups. Method names must not collide. `mask`: secret values
 * replaced in every result (status, worker views, digests, events read).
 */
export function buildRpcServer(groups: BoundMethod[][], log: Logger, mask?: SecretMask): MethodTable {
  return new MethodTable(groups, log, mask);
}
