// `cpwd mcp`: serves cpwd's tools to Claude Code over stdio (Model Context Protocol). The SDK is
// loaded here only, on demand: no other command pays for it.
import { usageError } from "../args.js";
import type { Command } from "../context.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length > 0) throw usageError(`takes no arguments (got ${argv.join(" ")}); Claude Code starts it, see docs/mcp.md`);
  const { serveStdio } = await import("../mcp/server.js");
  await serveStdio(ctx);
  return 0;
};
