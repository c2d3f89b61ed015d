// Error codes and the one error class cpwd uses. No zod, no I/O: the hook shim may import this.

/** Standard JSON-RPC 2.0 error codes. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/**
 * Stable string codes for cpwd's own errors. They travel in `error.data.code` on the wire and are
 * what clients switch on; the numbers in APP_RPC_CODE only place them in -32000…-32099.
 */
export const ErrorCode = {
  // transport and daemon presence (local to a client; never sent by the daemon)
  DaemonNotRunning: "DAEMON_NOT_RUNNING",
  ConnectTimeout: "CONNECT_TIMEOUT",
  RequestTimeout: "REQUEST_TIMEOUT",
  ConnectionClosed: "CONNECTION_CLOSED",
  PermissionDenied: "PERMISSION_DENIED",
  // daemon life
  AlreadyRunning: "ALREADY_RUNNING",
  ShuttingDown: "SHUTTING_DOWN",
  LockCompromised: "LOCK_COMPROMISED",
  // requests
  InvalidParams: "INVALID_PARAMS",
  MessageTooLarge: "MESSAGE_TOO_LARGE",
  Internal: "INTERNAL",
  // domain
  NotFound: "NOT_FOUND",
  InvalidState: "INVALID_STATE",
  InvalidConfig: "INVALID_CONFIG",
  InvalidArgument: "INVALID_ARGUMENT",
  Io: "IO",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where each application code sits in the JSON-RPC server-error range. */
export const APP_RPC_CODE: Record<ErrorCode, number> = {
  DAEMON_NOT_RUNNING: -32000,
  CONNECT_TIMEOUT: -32001,
  REQUEST_TIMEOUT: -32002,
  CONNECTION_CLOSED: -32003,
  PERMISSION_DENIED: -32004,
  ALREADY_RUNNING: -32010,
  SHUTTING_DOWN: -32011,
  LOCK_COMPROMISED: -32012,
  INVALID_PARAMS: RpcCode.InvalidParams,
  MESSAGE_TOO_LARGE: -32020,
  INTERNAL: -32021,
  NOT_FOUND: -32030,
  INVALID_STATE: -32031,
  INVALID_CONFIG: -32032,
  INVALID_ARGUMENT: -32033,
  IO: -32040,
};

/** The one error class: a stable `code`, a human message, optional structured `details`. */
export class CpwdError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CpwdError";
    this.code = code;
    this.details = options.details;
  }
}

/** True when `err` is a CpwdError with one of the given codes. */
export function isCpwdError(err: unknown, ...codes: ErrorCode[]): err is CpwdError {
  return err instanceof CpwdError && (codes.length === 0 || codes.includes(err.code));
}
