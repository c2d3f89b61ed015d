// The RPC method table: binds each method's schemas (src/protocol) to its handler, validates
// params, and is the one place a CpwdError (or any throw) becomes a JSON-RPC error on the wire.
import { JSONRPCErrorException, JSONRPCServer } from "json-rpc-2.0";
import type { Logger } from "pino";
import { z } from "zod";
import { APP_RPC_CODE, CpwdError, ErrorCode, RpcCode } from "../src/protocol/errors.js";
import { exceedsDepth, MAX_JSON_DEPTH } from "../src/protocol/json-bounds.js";
import type { MethodSpec } from "../src/protocol/rpc-method-spec.js";
import type { SecretMask } from "../src/protocol/secret-mask.js";

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
}

/**
 * A method ready to serve. Its handler's types are erased here, safely: `handle` checks the raw
 * params against the method's schema before the handler sees them.
 */
export interface BoundMethod {
  name: string;
  handle(rawParams: unknown, call: CallInfo): Promise<unknown>;
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

/** Maps anything a handler threw to the wire error json-rpc-2.0 sends. */
function toWireError(err: unknown, log: Logger, method: string): JSONRPCErrorException {
  if (err instanceof JSONRPCErrorException) return err;
  if (err instanceof CpwdError) {
    return new JSONRPCErrorException(err.message, APP_RPC_CODE[err.code], { code: err.code, ...err.details });
  }
  // A worker's folder or spec.json that could not be written on a full disk, say.
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === "string" && WRITE_ERRNOS.has(errno)) {
    log.warn({ err, method }, "rpc handler could not write");
    return new JSONRPCErrorException(`${method}: cpwd could not write its files (${(err as Error).message})`, APP_RPC_CODE[ErrorCode.Io], { code: ErrorCode.Io, errno });
  }
  // A bug, not a client's fault: log it with the stack, answer without leaking internals.
  log.error({ err, method }, "rpc handler failed");
  return new JSONRPCErrorException(`internal error in ${method}`, APP_RPC_CODE[ErrorCode.Internal], {
    code: ErrorCode.Internal,
  });
}

/** Binds one handler to its spec: rejects params that are too deep or that the schema refuses. */
function bindMethod<S extends MethodSpec>(name: string, spec: S, handler: Handler<S>): BoundMethod {
  if (typeof handler !== "function") throw new Error(`RPC method ${name} has no handler`);
  const handle = async (rawParams: unknown, call: CallInfo): Promise<unknown> => {
    // Before anything walks the params: a value nested thousands deep overflows the stack of
    // whatever serialises it next (the event log's writer, a reply).
    if (exceedsDepth(rawParams, MAX_JSON_DEPTH - 1)) {
      throw new JSONRPCErrorException(`invalid params: nested too deeply (a message may nest at most ${MAX_JSON_DEPTH} levels)`, RpcCode.InvalidParams, {
        code: ErrorCode.InvalidParams,
        maxDepth: MAX_JSON_DEPTH,
      });
    }
    // The schema's type named, not inferred: inference widens it to ZodType and the data to unknown.
    const parsed = z.safeParse<S["params"]>(spec.params, rawParams ?? undefined);
    if (!parsed.success) {
      throw new JSONRPCErrorException(`invalid params: ${describeZodError(parsed.error)}`, RpcCode.InvalidParams, {
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
  for (const name in group.specs) methods.push(bindMethod(name, group.specs[name], group.handlers[name]));
  return methods;
}

/**
 * Builds a json-rpc-2.0 server serving the given groups. Method names must not collide. `mask`:
 * secret values replaced in every result (status, worker views, digests, events read).
 */
export function buildRpcServer(groups: BoundMethod[][], log: Logger, mask?: SecretMask): JSONRPCServer<CallInfo> {
  const server = new JSONRPCServer<CallInfo>({
    // The library logs unexpected errors with console.warn by default; ours are mapped above.
    errorListener: () => {},
  });
  for (const { name, handle } of groups.flat()) {
    if (server.hasMethod(name)) throw new Error(`duplicate RPC method ${name}`);
    server.addMethod(name, async (rawParams, call) => {
      try {
        const result = await handle(rawParams, call);
        return mask ? mask.scrub(result) : result;
      } catch (err) {
        // A params error is a JSONRPCErrorException already and passes through unchanged.
        throw toWireError(err, log, name);
      }
    });
  }
  return server;
}
