// Opening a socket to the daemon with a connect deadline, and turning the ways that fails into
// CpwdErrors a caller can act on. Node built-ins only: the hook shim uses it too.
import { connect as netConnect, type Socket } from "node:net";
import { CpwdError, ErrorCode } from "../protocol/errors.js";

/** Maps a connect error: missing socket or refused → not running; EACCES/EPERM → final, never retried. */
export function connectError(err: NodeJS.ErrnoException, socketPath: string): CpwdError {
  switch (err.code) {
    case "ENOENT":
    case "ECONNREFUSED":
    case "ENOTSOCK":
      return new CpwdError(ErrorCode.DaemonNotRunning, `cpwd daemon is not running (no answer at ${socketPath})`, { cause: err });
    case "EACCES":
    case "EPERM":
      return new CpwdError(ErrorCode.PermissionDenied, `permission denied on ${socketPath}`, { cause: err });
    default:
      return new CpwdError(ErrorCode.ConnectionClosed, `cannot connect to ${socketPath}: ${err.message}`, { cause: err });
  }
}

/** Connects within `timeoutMs`; rejects with a CpwdError. */
export function openSocket(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CpwdError(ErrorCode.ConnectTimeout, `no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(err, socketPath));
    });
  });
}
