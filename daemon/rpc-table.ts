// The RPC method table: binds each method's schemas (src/protocol) to its handler, validates
// params, and is the one place a CpwdError (or any throw) becomes a JSON-RPC error on the wire.
import { JSONRPCErrorException, JSONRPCServer } from "json-rpc-2.0";
import type { Logger } from "pino";
import { z } from "zod";
import { APP_RPC_CODE, CpwdError, ErrorCode, RpcCode } from "../src/protocol/errors.js";
import { exceedsDepth, MAX_JSON_DEPTH } from "../src/protocol/json-bounds.js";
import type { MethodSpec } from "../src/protocol/rpc-method-spec.js";

/** Per-call facts a handler may use. */
export interface CallInfo {
  /** Which connection sent the request (for logs and per-client state). */
  connectionId: number;
  /**
   * Runs heavy work (a large read) on the connection's turn: see `ConnectionInfo.runHeavy` in
   * src/rpc/server.ts. Absent when a handler is called directly.
   */
  runHeavy?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** A handler gets validated params and returns a value its result schema accepts. */
export type Handler<S extends MethodSpec> = (
  params: z.output<S["params"]>,
  call: CallInfo,
) => Promise<z.input<S["result"]>> | z.input<S["result"]>;

export type Handlers<T extends Record<string, MethodSpec>> = { [K in keyof T]: Handler<T[K]> };

/** One area's methods: the specs and the handlers for them. */
export interface MethodGroup<T extends Record<string, MethodSpec> = Record<string, MethodSpec>> {
  specs: T;
  handlers: Handlers<T>;
}

/** Formats a zod error as "field: why; field: why" for a -32602 message. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "params"}: ${i.message}`)
    .join("; ");
}

/** Maps anything a handler threw to the wire error json-rpc-2.0 sends. */
function toWireError(err: unknown, log: Logger, method: string): JSONRPCErrorException {
  if (err instanceof JSONRPCErrorException) return err;
  if (err instanceof CpwdError) {
    return new JSONRPCErrorException(err.message, APP_RPC_CODE[err.code], { code: err.code, ...err.details });
  }
  // A bug, not a client's fault: log it with the stack, answer without leaking internals.
  log.error({ err, method }, "rpc handler failed");
  return new JSONRPCErrorException(`internal error in ${method}`, APP_RPC_CODE[ErrorCode.Internal], {
    code: ErrorCode.Internal,
  });
}

/** Builds a json-rpc-2.0 server serving the given groups. Method names must not collide. */
export function buildRpcServer(groups: MethodGroup[], log: Logger): JSONRPCServer<CallInfo> {
  const server = new JSONRPCServer<CallInfo>({
    // The library logs unexpected errors with console.warn by default; ours are mapped above.
    errorListener: () => {},
  });
  for (const group of groups) {
    for (const [name, spec] of Object.entries(group.specs)) {
      if (server.hasMethod(name)) throw new Error(`duplicate RPC method ${name}`);
      const handler = (group.handlers as Record<string, Handler<MethodSpec>>)[name];
      if (!handler) throw new Error(`RPC method ${name} has no handler`);
      server.addMethod(name, async (rawParams, call) => {
        // Before anything walks the params: a value nested thousands deep overflows the stack of
        // whatever serialises it next (the event log's writer, a reply).
        if (exceedsDepth(rawParams, MAX_JSON_DEPTH - 1)) {
          throw new JSONRPCErrorException(`invalid params: nested too deeply (a message may nest at most ${MAX_JSON_DEPTH} levels)`, RpcCode.InvalidParams, {
            code: ErrorCode.InvalidParams,
            maxDepth: MAX_JSON_DEPTH,
          });
        }
        const parsed = spec.params.safeParse(rawParams ?? undefined);
        if (!parsed.success) {
          throw new JSONRPCErrorException(`invalid params: ${describeZodError(parsed.error)}`, RpcCode.InvalidParams, {
            code: ErrorCode.InvalidParams,
            issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
          });
        }
        try {
          return await handler(parsed.data, call);
        } catch (err) {
          throw toWireError(err, log, name);
        }
      });
    }
  }
  return server;
}
