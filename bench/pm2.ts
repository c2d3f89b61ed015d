// pm2 (a devDependency used only here) as the comparison: its own PM2_HOME in a temp folder, never
// a user's ~/.pm2, and `pm2 kill` afterwards — also if the bench is interrupted.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { onInterrupt, type Cmd } from "./lib.js";

export interface Pm2 {
  version: string;
  /** The God daemon's pid. */
  pid: number;
  /** `pm2 ARGS` as a command, with this PM2_HOME. */
  cmd(...args: string[]): Cmd;
  /** Starts `argv` as an app (no restart, no interpreter: the same worker cpwd runs). */
  startApp(name: string, argv: string[]): void;
  kill(): void;
}

/** Starts a private pm2 daemon (`pm2 ping` starts it) in a fresh PM2_HOME. */
export function startPm2(): Pm2 {
  const pkg = createRequire(import.meta.url).resolve("pm2/package.json");
  const version = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  const bin = join(dirname(pkg), "bin", "pm2");
  const home = mkdtempSync(join(tmpdir(), "cpwd-bench-pm2-"));
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home };
  const cmd = (...args: string[]): Cmd => ({ argv: [process.execPath, bin, ...args], env });
  const run = (...args: string[]): string => {
    const c = cmd(...args);
    const r = spawnSync(c.argv[0]!, c.argv.slice(1), { env, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`pm2 ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  let killed = false;
  const kill = (): void => {
    if (killed) return;
    killed = true;
    spawnSync(cmd("kill").argv[0]!, cmd("kill").argv.slice(1), { env, stdio: "ignore", timeout: 30_000 });
    rmSync(home, { recursive: true, force: true });
  };
  const forget = onInterrupt(kill);
  try {
    run("ping");
    const pid = Number(readFileSync(join(home, "pm2.pid"), "utf8").trim());
    return {
      version,
      pid,
      cmd,
      startApp: (name, argv) => void run("start", argv[0]!, "--name", name, "--interpreter", "none", "--no-autorestart", "--", ...argv.slice(1)),
      kill: () => {
        kill();
        forget();
      },
    };
  } catch (err) {
    kill();
    forget();
    throw err;
  }
}
