// Where `cpwd hooks install` registers the MCP server for each scope, and the edit it makes there:
// project → DIR/.mcp.json; local → ~/.claude.json under the project's key; user → ~/.claude.json
// at its top (as `claude mcp add --scope …` writes them). Read, merged (mcp-config.ts) and written
// guarded, like the settings file; a file that cannot be parsed is never overwritten.
import { realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { readIfExists } from "../../src/platform/atomic-file.js";
import { writeGuarded } from "./guarded-write.js";
import { formatSettings, parseSettings } from "./install.js";
import { checkMcpConfig, inspectMcp, installMcp, MCP_SERVER_NAME, uninstallMcp, type McpEntry, type McpPath, type McpPresence } from "./mcp-config.js";

export interface McpTarget {
  file: string;
  at: McpPath;
  entry: McpEntry;
  /** A new file's permissions: ~/.claude.json holds the user's account, so it stays private. */
  newMode: number;
}

/** What an edit found and would write. */
export interface McpEdit {
  target: McpTarget;
  /** The text read (undefined: no file). */
  before: string | undefined;
  next: string;
  changed: boolean;
  /** cpwd's entry as it was before the edit. */
  presence: McpPresence;
}

/** A project folder as Claude Code keys it in ~/.claude.json: its real path. */
function projectKey(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** The file and place a scope's MCP server is registered in. */
export function mcpTarget(scope: "project" | "local" | "user", projectDir: string, userHome: string, entry: McpEntry): McpTarget {
  if (scope === "project") return { file: join(projectDir, ".mcp.json"), at: [], entry, newMode: 0o644 };
  const at = scope === "local" ? ["projects", projectKey(projectDir)] : [];
  return { file: join(userHome, ".claude.json"), at, entry, newMode: 0o600 };
}

/** Reads the file and works out `action`'s edit; throws, touching nothing, on a file it cannot parse. */
export async function editMcp(target: McpTarget, action: "install" | "uninstall" | "status"): Promise<McpEdit> {
  const before = (await readIfExists(target.file))?.toString("utf8");
  const config = parseSettings(before, target.file);
  checkMcpConfig(config, target.at, target.file);
  const presence = inspectMcp(config, target.at, target.entry);
  const after = action === "install" ? installMcp(config, target.at, target.entry) : action === "uninstall" ? uninstallMcp(config, target.at) : config;
  return { target, before, next: formatSettings(after), changed: JSON.stringify(after) !== JSON.stringify(config), presence };
}

/** Writes an edit that changes something, unless the file changed since it was read. */
export async function applyMcpEdit(edit: McpEdit): Promise<void> {
  if (edit.changed) await writeGuarded(edit.target.file, edit.before, edit.next, { newMode: edit.target.newMode });
}

/** The file, and the project key for the local scope. */
function where(t: McpTarget): string {
  return t.at.length > 0 ? `${t.file} (for ${t.at[t.at.length - 1]})` : t.file;
}

/** What install or uninstall did, in one line (or none when uninstall found nothing). */
export function mcpReport(edit: McpEdit, action: "install" | "uninstall", dryRun: boolean): string | null {
  const t = edit.target;
  if (edit.presence === "foreign") return `kept mcpServers.${MCP_SERVER_NAME} in ${where(t)}: it is not cpwd's, so cpwd's MCP tools are not registered`;
  if (dryRun) return `# ${where(t)}: MCP server ${MCP_SERVER_NAME} ${!edit.changed ? "unchanged" : action === "install" ? "would be registered" : "would be removed"}`;
  if (action === "uninstall") return edit.changed ? `MCP server ${MCP_SERVER_NAME} removed from ${where(t)}` : null;
  return edit.changed ? `MCP server ${MCP_SERVER_NAME} registered in ${where(t)}: ${[t.entry.command, ...t.entry.args].join(" ")}` : `MCP server ${MCP_SERVER_NAME} already registered in ${where(t)}`;
}

/** `status`'s line, and whether it counts as installed (a foreign entry is the user's, not a fault). */
export function mcpStatus(edit: McpEdit): { line: string; ok: boolean } {
  const state = { current: "current", outdated: "outdated; run `cpwd hooks install`", missing: "absent; run `cpwd hooks install`", foreign: "not cpwd's" }[edit.presence];
  return { line: `MCP server ${MCP_SERVER_NAME} in ${where(edit.target)}: ${state}`, ok: edit.presence === "current" || edit.presence === "foreign" };
}
