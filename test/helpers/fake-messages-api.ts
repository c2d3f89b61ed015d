// A local fake of the Anthropic Messages API, enough for the real Claude Code CLI to run offline:
// POST /v1/messages answered as a server-sent-event stream (or plain JSON when not streaming),
// every request recorded so tests can read exactly what the model would have seen.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A turn's reply: text, or one tool call; `delayMs` holds it back that long (a slow model), `until`
 * until that promise settles (a test's own moment); `usage` sets the tokens it reports (default
 * 10 in, 5 out), from which Claude Code computes its cost.
 */
export type Reply = ({ text: string } | { tool: { name: string; input: Record<string, unknown> } }) & {
  delayMs?: number;
  until?: Promise<unknown>;
  usage?: { inputTokens: number; outputTokens: number };
};

export interface RecordedRequest {
  url: string;
  body: any;
}

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  /** Requests that asked for a model turn (not token counts or side calls). */
  turns(): RecordedRequest[];
  close(): Promise<void>;
}

/** Every text the model would see in a request: system, messages, tool results, reminders. */
export function allText(req: RecordedRequest): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      for (const k of ["text", "content", "system", "messages"]) if (k in o) walk(o[k]);
    }
  };
  walk(req.body);
  return out.join("\n");
}

/** The last user message's tool_result blocks of a request. */
export function toolResults(req: RecordedRequest): Array<{ is_error?: boolean; content: unknown }> {
  const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const last = [...msgs].reverse().find((m) => m.role === "user");
  return Array.isArray(last?.content) ? (last!.content as Array<{ type: string }>).filter((b) => b.type === "tool_result") as never : [];
}

/** The default script: call `tool` first; once a tool result comes back, answer with `finalText`. */
export function toolThenText(tool: { name: string; input: Record<string, unknown> }, finalText = "done"): (req: RecordedRequest) => Reply {
  return (req) => (toolResults(req).length > 0 ? { text: finalText } : { tool });
}

/** Tool calls one after the other, each once the previous one's result is back; then `finalText`. */
export function toolsThenText(tools: Array<{ name: string; input: Record<string, unknown> }>, finalText = "done"): (req: RecordedRequest) => Reply {
  return (req) => {
    const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
    const answered = msgs.filter((m) => m.role === "user" && Array.isArray(m.content) && m.content.some((b: { type?: string }) => b.type === "tool_result")).length;
    const tool = tools[answered];
    return tool ? { tool } : { text: finalText };
  };
}

function sse(res: ServerResponse, model: string, reply: Reply): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  send("message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: reply.usage?.inputTokens ?? 10, output_tokens: 1 } } });
  if ("text" in reply) {
    send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: reply.text } });
  } else {
    const toolId = `toolu_${Math.random().toString(36).slice(2)}`;
    send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: toolId, name: reply.tool.name, input: {} } });
    send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: JSON.stringify(reply.tool.input) } });
  }
  send("content_block_stop", { type: "content_block_stop", index: 0 });
  send("message_delta", { type: "message_delta", delta: { stop_reason: "text" in reply ? "end_turn" : "tool_use", stop_sequence: null }, usage: { output_tokens: reply.usage?.outputTokens ?? 5 } });
  send("message_stop", { type: "message_stop" });
  res.end();
}

/** A reply as one JSON message, for a request that did not ask to stream. */
function json(res: ServerResponse, body: any, reply: Reply): void {
  res.writeHead(200, { "content-type": "application/json" });
  const content = "text" in reply ? [{ type: "text", text: reply.text }] : [{ type: "tool_use", id: "toolu_1", name: reply.tool.name, input: reply.tool.input }];
  res.end(JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: body.model, content, stop_reason: "text" in reply ? "end_turn" : "tool_use", stop_sequence: null, usage: { input_tokens: reply.usage?.inputTokens ?? 10, output_tokens: reply.usage?.outputTokens ?? 5 } }));
}

/** Starts the fake on a random loopback port. `script` decides each turn's reply. */
export async function startFakeApi(script: (req: RecordedRequest) => Reply = () => ({ text: "done" })): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        // recorded as empty
      }
      const rec = { url: req.url ?? "", body };
      requests.push(rec);
      const path = (req.url ?? "").split("?")[0];
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 10 }));
      } else if (req.method === "POST" && path === "/v1/messages") {
        const reply = script(rec);
        const send = () => (body.stream ? sse(res, String(body.model ?? "fake"), reply) : json(res, body, reply));
        if (reply.until) void reply.until.then(send, send);
        else setTimeout(send, reply.delayMs ?? 0);
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not faked" } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    turns: () => requests.filter((r) => r.url.split("?")[0] === "/v1/messages"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
