// Checks the JSON-RPC 2.0 request envelope before a message reaches json-rpc-2.0, whose own check
// accepts a non-string method and throws on `null` (see docs/protocol.md). No zod: this is the
// hot path of every call.
import type { JSONRPCRequest } from "json-rpc-2.0";

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
