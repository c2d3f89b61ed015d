// `cpwd hooks install`'s MCP half as pure functions: cpwd's server entry (`cpwd mcp`) merged into a
// Claude Code MCP config (a project's .mcp.json, or ~/.claude.json, at its top or under one
// project's key), taken out again, or inspected. No I/O, so every rule (foreign servers kept,
// idempotent, only ours removed, a `cpwd` entry that is not ours left alone) is tested on objects.
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import type { Settings } from "./install.js";

/** The server's name: Claude Code calls its tools `mcp__cpwd__<tool>`. */
export const MCP_SERVER_NAME = "cpwd";

/** A stdio server entry as Claude Code reads it. */
export interface McpEntry {
  type: "stdio";
  command: string;
  args: string[];
}

/** Where the `mcpServers` object lives in the file: [] for its top, or ["projects", DIR]. */
export type McpPath = string[];

/** Per file: our entry as we would write it, an older one of ours, none, or someone else's `cpwd`. */
export type McpPresence = "current" | "outdated" | "missing" | "foreign";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `node /path/dist/cli/main.js mcp`, or `cpwd mcp` from PATH when `bare`. */
export function mcpEntry(nodePath: string, cliScript: string, bare = false): McpEntry {
  return bare ? { type: "stdio", command: "cpwd", args: ["mcp"] } : { type: "stdio", command: nodePath, args: [cliScript, "mcp"] };
}

/** cpwd's entry: one that runs `… mcp` through cpwd (its bin, or its compiled cli/main.js). */
export function isCpwdMcpEntry(v: unknown): boolean {
  if (!isObject(v) || typeof v.command !== "string" || !Array.isArray(v.args) || v.args.at(-1) !== "mcp") return false;
  const words = [v.command, ...v.args.filter((a): a is string => typeof a === "string")];
  return words.some((w) => /(^|[\\/])cpwd(\.cmd|\.exe)?$/.test(w) || /[\\/]cli[\\/]main\.c?js$/.test(w));
}

/** The object at `at`, or undefined when some step is missing. */
function objectAt(config: Settings, at: McpPath): Record<string, unknown> | undefined {
  let node: unknown = config;
  for (const key of at) node = isObject(node) ? node[key] : undefined;
  return isObject(node) ? node : undefined;
}

/**
 * Checks the parts of a parsed file cpwd would edit: every step of `at` and `mcpServers` must be
 * an object when present. Throws INVALID_CONFIG, the file untouched, otherwise.
 */
export function checkMcpConfig(config: Settings, at: McpPath, file: string): void {
  let node: unknown = config;
  const path: string[] = [];
  for (const key of [...at, "mcpServers"]) {
    path.push(key);
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) return;
    if (!isObject(node)) throw new CpwdError(ErrorCode.InvalidConfig, `${file}: "${path.join(".")}" must be an object; left untouched`, { details: { file } });
  }
}

/** `config` with `change` applied to a copy of the servers object at `at` (created when missing). */
function withServers(config: Settings, at: McpPath, change: (servers: Record<string, unknown>) => void): Settings {
  const copy = (node: Record<string, unknown>, depth: number): Record<string, unknown> => {
    if (depth === at.length) {
      const servers = { ...((node.mcpServers as Record<string, unknown> | undefined) ?? {}) };
      change(servers);
      const { mcpServers: _old, ...rest } = node;
      return Object.keys(servers).length > 0 ? { ...node, mcpServers: servers } : rest;
    }
    const key = at[depth]!;
    return { ...node, [key]: copy((node[key] as Record<string, unknown> | undefined) ?? {}, depth + 1) };
  };
  return copy(config, 0);
}

/** Whether cpwd's entry is there as `entry` would write it. */
export function inspectMcp(config: Settings, at: McpPath, entry: McpEntry): McpPresence {
  const current = objectAt(config, at)?.mcpServers;
  const ours = isObject(current) ? current[MCP_SERVER_NAME] : undefined;
  if (ours === undefined) return "missing";
  if (!isCpwdMcpEntry(ours)) return "foreign";
  return JSON.stringify(ours) === JSON.stringify(entry) ? "current" : "outdated";
}

/** `config` with cpwd's entry, everything else as it was; a foreign `cpwd` entry is kept as it is. */
export function installMcp(config: Settings, at: McpPath, entry: McpEntry): Settings {
  const presence = inspectMcp(config, at, entry);
  if (presence === "current" || presence === "foreign") return config;
  return withServers(config, at, (servers) => (servers[MCP_SERVER_NAME] = entry));
}

/** `config` without cpwd's entry; a `mcpServers` emptied by that goes too (a project's key stays). */
export function uninstallMcp(config: Settings, at: McpPath): Settings {
  const servers = objectAt(config, at)?.mcpServers;
  if (!isObject(servers) || !isCpwdMcpEntry(servers[MCP_SERVER_NAME])) return config;
  return withServers(config, at, (s) => delete s[MCP_SERVER_NAME]);
}
