// Where `--transport http` points Claude Code: the daemon's loopback port and token, from
// `$CPWD_HOME/hook-http.json` (src/records/hook-endpoint.ts). `install` creates the record when the
// daemon has never run (a port free now, which the daemon then takes); `status` only reads it.
// Also what keeps the token where it belongs: out of dry runs, and warned about outside .gitignore.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/platform/config.js";
import type { CpwdPaths } from "../../src/platform/paths.js";
import { ensureHookEndpoint, readHookEndpoint, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { installedTransport, parseSettings, TOKEN_ENV, type Settings } from "./install.js";

/** A loopback port nobody listens on now (the kernel's choice). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The endpoint HTTP hooks are written for: config `hookHttpPort`, else the recorded port, else a free one; the token, created if need be. */
export async function installEndpoint(paths: CpwdPaths): Promise<HookEndpoint> {
  const configured = loadConfig(paths.config).hookHttpPort;
  const recorded = readHookEndpoint(paths.hookEndpoint);
  const port = configured ?? recorded?.port ?? (await freeLoopbackPort());
  return { port, token: ensureHookEndpoint(paths.hookEndpoint, port).token };
}

/** The endpoint as the daemon serves it (config port first), without creating anything; null when there is no record yet. */
export function currentEndpoint(paths: CpwdPaths): HookEndpoint | null {
  const recorded = readHookEndpoint(paths.hookEndpoint);
  if (recorded === null) return null;
  let configured: number | null = null;
  try {
    configured = loadConfig(paths.config).hookHttpPort;
  } catch {
    // a bad config.json: the daemon would not start; the recorded port is the best guess
  }
  return { port: configured ?? recorded.port, token: recorded.token };
}

/**
 * The endpoint of the HTTP hooks a settings file holds, to check them against (port 0 and no token
 * when the daemon has no record yet); null when the file holds none, or cannot be read.
 */
export function installedEndpoint(settingsFile: string, paths: CpwdPaths): HookEndpoint | null {
  let settings: Settings;
  try {
    settings = parseSettings(readFileSync(settingsFile, "utf8"), settingsFile);
  } catch {
    return null; // absent or unreadable: `status` says so when it reads the file itself
  }
  return installedTransport(settings) === "http" ? endpointToCheck(paths) : null;
}

/** The daemon's endpoint as recorded; port 0 and no token when there is no record yet (`status` says so). */
function endpointToCheck(paths: CpwdPaths): HookEndpoint {
  return currentEndpoint(paths) ?? { port: 0, token: "" };
}

/**
 * The HTTP endpoint a `cpwd hooks` action writes or checks against: `install --transport http`
 * creates it if need be (null: the shim); `status --transport T` checks against T; otherwise
 * (undefined) against what the file holds.
 */
export async function endpointFor(action: string, transport: string | undefined, paths: CpwdPaths): Promise<HookEndpoint | null | undefined> {
  if (action === "install") return transport === "http" ? installEndpoint(paths) : null;
  if (action !== "status") return null;
  if (transport === undefined) return undefined;
  return transport === "http" ? endpointToCheck(paths) : null;
}

/** The `env.CPWD_TOKEN` a settings text holds, to keep it out of a dry run's output. */
export function tokenOf(text: string | undefined): string | undefined {
  try {
    const token = (JSON.parse(text ?? "") as { env?: Record<string, unknown> }).env?.[TOKEN_ENV];
    return typeof token === "string" && token !== "" ? token : undefined;
  } catch {
    return undefined;
  }
}

/** A line saying the local settings file is not git-ignored (it holds the token), or nothing. */
export function gitIgnoreWarning(file: string, projectDir: string): string | undefined {
  const r = spawnSync("git", ["check-ignore", "-q", file], { cwd: projectDir, stdio: "ignore", timeout: 5_000 });
  // 0: ignored; 1: not ignored; 128: not a repository (or no git): nothing to say.
  return r.status === 1 ? `warning: ${file} holds the daemon's token and git does not ignore it: add it to .gitignore` : undefined;
}
