// `cpwd mcp`: cpwd's tools for a Claude Code session, as a stdio MCP server on the official SDK.
// Claude Code starts it (registered by `cpwd hooks install`) with the session's folder as its cwd
// and CLAUDE_CODE_SESSION_ID in its environment; it talks to the daemon over the CLI's client.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { readVersion } from "../../src/platform/version.js";
import type { CliContext } from "../context.js";
import { DaemonLink } from "./daemon-link.js";
import { registerReadTools } from "./read-tools.js";
import { registerStartTools } from "./start-tools.js";
import { registerStopTool } from "./stop-tool.js";
import type { ToolDeps } from "./tool-kit.js";
import { registerWaitTool } from "./wait-tool.js";

/** The server name: Claude Code calls its tools `mcp__cpwd__<tool>`. */
export const MCP_SERVER_NAME = "cpwd";

const INSTRUCTIONS =
  "cpwd runs workers beside this session: headless Claude Code sessions (claude_worker) or any command (spawn_worker), " +
  "in the background, outliving the session. Fan out with several starts, then gather with wait_for_workers " +
  "(returns each worker's result and cost) instead of polling. worker_logs reads what a worker did; worker_diff " +
  "what a worktree worker changed.";

/** An MCP server with every cpwd tool registered. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version: readVersion() }, { instructions: INSTRUCTIONS });
  registerStartTools(server, deps);
  registerReadTools(server, deps);
  registerWaitTool(server, deps);
  registerStopTool(server, deps);
  return server;
}

/** Serves on stdin/stdout until the client closes stdin. */
export async function serveStdio(ctx: CliContext): Promise<void> {
  const closing = new AbortController();
  const link = new DaemonLink(ctx);
  const server = createMcpServer({ ctx, link, closing: closing.signal });
  await server.connect(new StdioServerTransport());
  await new Promise<void>((resolve) => {
    // The SDK's transport does not end on EOF: the client is gone, so is the server.
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  closing.abort();
  await server.close();
  link.close();
}
