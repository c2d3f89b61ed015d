// Starts the real, compiled daemon in a fresh temp CPWD_HOME, and cleans up after it by pid.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolvePaths, type CpwdPaths } from "../../src/platform/paths.js";
import { connect, type RpcClient } from "../../src/rpc/client.js";
import { probeDaemon } from "../../src/rpc/probe.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** The compiled CLI: tests run what users run (npm test builds first). */
export const CLI = join(REPO, "dist", "cli", "main.js");

export function tempHome(prefix = "cpwd-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function pathsFor(home: string): CpwdPaths {
  return resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: process.getuid?.() ?? 0 });
}

export function testEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CPWD_HOME: home, CPWD_LOG_LEVEL: "debug", ...extra };
}

/** Runs the CLI to completion. */
export function cpwd(home: string, args: string[], extra: Record<string, string> = {}, timeoutMs = 20_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: testEnv(home, extra), encoding: "utf8", timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Waits until a pid is gone (or a zombie we reaped through the ChildProcess). */
export async function waitGone(pid: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(`pid ${pid} to exit`, () => !pidAlive(pid), timeoutMs);
}

export interface TestDaemon {
  home: string;
  paths: CpwdPaths;
  pid: number;
  proc: ChildProcess;
  exited: Promise<number | null>;
  client(): Promise<RpcClient>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** Spawns `cpwd daemon` (foreground child of the test) and waits until it answers ping. */
export async function startDaemon(home = tempHome(), extra: Record<string, string> = {}): Promise<TestDaemon> {
  const paths = pathsFor(home);
  const proc = spawn(process.execPath, [CLI, "daemon"], { env: testEnv(home, extra), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let early: number | null | undefined;
  void exited.then((c) => (early = c));
  await waitFor("daemon to answer ping", async () => {
    if (early !== undefined) throw new Error(`daemon exited early (${early}): ${stderr}`);
    return probeDaemon(paths.socket, 200);
  });
  const pid = proc.pid!;
  const d: TestDaemon = {
    home,
    paths,
    pid,
    proc,
    exited,
    client: () => connect(paths.socket),
    async stop() {
      if (early !== undefined) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 8_000);
      await exited;
      clearTimeout(t);
    },
    async kill9() {
      proc.kill("SIGKILL");
      await exited;
    },
  };
  return d;
}

/** Kills, by pid, every worker (its whole group) and wrapper recorded under a home. */
export function killWorkers(home: string): void {
  const workers = join(home, "workers");
  let ids: string[] = [];
  try {
    ids = readdirSync(workers);
  } catch {
    return;
  }
  for (const id of ids) {
    try {
      const run = JSON.parse(readFileSync(join(workers, id, "run.json"), "utf8")) as { pid: number; wrapperPid: number };
      for (const target of [-run.pid, run.pid, run.wrapperPid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // already gone
        }
      }
    } catch {
      // never started
    }
  }
}

/** Stops a daemon, kills any worker it left, and removes its home. For `after`/`finally`. */
export async function cleanup(d: TestDaemon | undefined, home?: string): Promise<void> {
  if (d) await d.stop();
  const h = home ?? d?.home;
  if (h) {
    killWorkers(h);
    rmSync(h, { recursive: true, force: true });
  }
}
