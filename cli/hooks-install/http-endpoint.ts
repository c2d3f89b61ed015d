// Where `--transport http` points Claude Code: the daemon's loopback port and token, from
// `$CPWD_HOME/hook-http.json` (src/records/hook-endpoint.ts). `install` creates the record when the
// daemon has never run (a port free now, which the daemon then takes); `status` only reads it.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/platform/config.js";
import type { CpwdPaths } from "../../src/platform/paths.js";
import { ensureHookEndpoint, readHookEndpoint, type HookEndpoint } from "../../src/records/hook-endpoint.js";

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
