// Drives the compiled `cpwd mcp` over stdio with the official SDK's client, as Claude Code would.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, testEnv } from "./daemon.js";

export interface McpSession {
  client: Client;
  /** The server process's pid. */
  pid: number;
  /** What the server wrote on stderr. */
  stderr(): string;
  /** Calls a tool; resolves with its result, tool errors included (`isError`). */
  call(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<{ isError?: boolean; text: string; data: any }>;
  close(): Promise<void>;
}

/** Starts `cpwd mcp` for `home` (in `cwd`) and completes the MCP handshake. */
export async function startMcp(home: string, extra: Record<string, string> = {}, cwd?: string): Promise<McpSession> {
  const env = Object.fromEntries(Object.entries(testEnv(home, extra)).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp"], env, stderr: "pipe", ...(cwd ? { cwd } : {}) });
  let stderr = "";
  transport.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: "cpwd-test", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid!,
    stderr: () => stderr,
    async call(name, args = {}, timeoutMs = 30_000) {
      const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs })) as { isError?: boolean; content: Array<{ type: string; text?: string }>; structuredContent?: unknown };
      const text = r.content.map((c) => c.text ?? "").join("\n");
      return { isError: r.isError, text, data: r.structuredContent };
    },
    close: () => client.close(),
  };
}
