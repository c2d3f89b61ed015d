// The JSON-RPC 2.0 envelope: checks a request before it reaches the method table
// (daemon/rpc-table.ts; json-rpc-2.0's own check, which it replaced on the hot path, accepted a
// non-string method and threw on `null`: see docs/protocol.md), and builds the error replies the
// server sends itself. No zod: this is the hot path of every call.
import type { JSONRPCRequest, JSONRPCResponse } from "json-rpc-2.0";

/** True when `msg` is a well-formed request or notification. */
export function isRequestEnvelope(msg: unknown): msg is JSONRPCRequest {
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return false;
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== "2.0" || typeof m.method !== "string") return false;
  if (m.params !== undefined && (typeof m.params !== "object" || m.params === null)) return false;
  const id = m.id;
  return id === undefined || id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/** The id to answer an invalid request with: its own when readable, else null (as the spec says). */
export function replyId(msg: unknown): string | number | null {
  if (typeof msg !== "object" || msg === null) return null;
  const id = (msg as { id?: unknown }).id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** An error reply; `data` is left out when undefined, as the spec makes it optional. */
export function errorResponse(id: string | number | null, code: number, message: string, data?: unknown): JSONRPCResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}
