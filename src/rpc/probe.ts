// Is a daemon answering on this socket? `ping` with a short deadline. Nobody answering is null;
// a permission error is final and thrown (retrying would not help).
import { ErrorCode, isCpwdError } from "../protocol/errors.js";
import { connect } from "./client.js";

export async function probeDaemon(socket: string, timeoutMs = 500): Promise<{ pid: number; version: string } | null> {
  try {
    const c = await connect(socket, { connectTimeoutMs: timeoutMs });
    try {
      const r = await c.call("ping", undefined, { timeoutMs });
      return { pid: r.pid, version: r.version };
    } finally {
      c.close();
    }
  } catch (err) {
    if (isCpwdError(err, ErrorCode.PermissionDenied)) throw err;
    return null;
  }
}
