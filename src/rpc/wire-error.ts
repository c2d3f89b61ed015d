// A JSON-RPC error from the daemon as the CpwdError clients act on: the daemon's stable code (in
// `error.data.code`) when it is one cpwd knows, else INVALID_PARAMS for -32602, else INTERNAL.
// Node built-ins and protocol only: both the client and the one-request path use it.
import { CpwdError, ErrorCode, RpcCode, type ErrorCode as ErrorCodeT } from "../protocol/errors.js";

/** The wire error `{ code, message, data }` as a CpwdError, keeping the wire code and data. */
export function wireError(rpcCode: number, message: string, data: unknown): CpwdError {
  const fromData = (data ?? {}) as { code?: unknown };
  const code: ErrorCodeT =
    typeof fromData.code === "string" && (Object.values(ErrorCode) as string[]).includes(fromData.code)
      ? (fromData.code as ErrorCodeT)
      : rpcCode === RpcCode.InvalidParams
        ? ErrorCode.InvalidParams
        : ErrorCode.Internal;
  return new CpwdError(code, message, { details: { rpcCode, data } });
}
