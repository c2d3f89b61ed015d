// Starts the real, compiled daemon in a fresh temp CPWD_HOME, and cleans up after it by pid:
// withDaemon for one test, shareDaemon for a describe block, startDaemon/cleanup for restarts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { DAEMON_NODE_FLAGS } from "../../cli/service/spec.js";
import { resolvePaths, type CpwdPaths } from "../../src/platform/paths.js";
import { connect, type RpcClient } from "../../src/rpc/client.js";
import { probeDaemon } from "../../src/rpc/probe.js";
import { allPids, killAll, killGroups, procCmdline } from "./kill.js";
import { rawConnect, type RawConn } from "./raw-socket.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** The compiled CLI: tests run what users run (npm test builds first). */
export const CLI = join(REPO, "dist", "cli", "main.js");
/** The daemon's own entry: what `cpwd start` and the login service run. */
export const DAEMON = join(REPO, "dist", "daemon", "main.js");

export function tempHome(prefix = "cpwd-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `body` with a fresh temp CPWD_HOME, and removes it afterwards, even when `body` throws. */
export async function withHome<T>(body: (home: string) => T | Promise<T>): Promise<T> {
  const home = tempHome();
  try {
    return await body(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export function pathsFor(home: string): CpwdPaths {
  return resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home: tmpdir(), uid: process.getuid?.() ?? 0 });
}

/** The `claude` tests run unless they name another: answers `agents --json` with none, refuses the rest. */
export const NO_AGENTS_CLAUDE = join(REPO, "test", "fixtures", "claude-agents-none.sh");

export function testEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CPWD_HOME: home, CPWD_LOG_LEVEL: "debug", CPWD_CLAUDE_BIN: process.env.CPWD_CLAUDE_BIN ?? NO_AGENTS_CLAUDE, ...extra };
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

/** Spawns the daemon as `cpwd start` does (`node dist/daemon/main.js`, a foreground child of the test) and waits until it answers ping. */
export async function startDaemon(home = tempHome(), extra: Record<string, string> = {}): Promise<TestDaemon> {
  const paths = pathsFor(home);
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, DAEMON], { env: testEnv(home, extra), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let early: number | null | undefined;
  void exited.then((c) => (early = c));
  try {
    // Generous: a loaded machine (CI, parallel test files) can take seconds to start a Node process.
    await waitFor("daemon to answer ping", async () => {
      if (early !== undefined) throw new Error(`daemon exited early (${early}): ${stderr}`);
      return probeDaemon(paths.socket, 200);
    }, 30_000);
  } catch (err) {
    // Never leave it behind: a daemon that outlives its test keeps the test file's process alive.
    proc.kill("SIGKILL");
    throw err;
  }
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
      // The wrapper's group too: the output mux lives there, idle for ever once its wrapper is gone.
      killAll([-run.pid, run.pid, -run.wrapperPid, run.wrapperPid]);
    } catch {
      // never started
    }
  }
}

/**
 * Kills, with its group, the shell run making a home's folder stock (daemon/runner/folder-stock.ts;
 * its script names the stock's folder) that a daemon killed outright leaves going for a moment:
 * the home cannot be removed while it makes folders. Linux (/proc) only; elsewhere nothing.
 */
export function killStockRuns(home: string): void {
  const stock = join(home, "stock");
  let pids: number[] = [];
  try {
    pids = allPids();
  } catch {
    return; // no /proc
  }
  killGroups(pids.filter((pid) => procCmdline(pid).includes(stock)));
}

/** Stops a daemon, kills any worker it left, and removes its home. For `after`/`finally`. */
export async function cleanup(d: TestDaemon | undefined, home?: string): Promise<void> {
  if (d) await d.stop();
  const h = home ?? d?.home;
  if (h) {
    killWorkers(h);
    killStockRuns(h);
    // Retried: a stock run killed just now may finish the mkdir it was in.
    rmSync(h, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}

export interface DaemonOptions {
  /** The daemon's CPWD_HOME; a fresh temp folder by default. Removed afterwards either way. */
  home?: string;
  /** Extra environment for the daemon. */
  env?: Record<string, string>;
  /** Written to the home's config.json before the daemon starts. */
  config?: Record<string, unknown>;
  /** Also open a raw line socket to the daemon (for malformed input); closed first. */
  raw?: boolean;
}

/** What withDaemon and shareDaemon opened, filled in as it opens so a failure half-way is cleaned up. */
interface Opened {
  home: string;
  daemon?: TestDaemon;
  client?: RpcClient;
  raw?: RawConn;
}

async function openDaemon(options: DaemonOptions, opened: Opened): Promise<void> {
  if (options.config) writeFileSync(pathsFor(opened.home).config, JSON.stringify(options.config));
  opened.daemon = await startDaemon(opened.home, options.env);
  opened.client = await opened.daemon.client();
  if (options.raw) opened.raw = await rawConnect(opened.daemon.paths.socket);
}

async function closeDaemon(opened: Opened): Promise<void> {
  opened.raw?.close();
  opened.client?.close();
  await cleanup(opened.daemon, opened.home);
}

type Body<T> = (daemon: TestDaemon, client: RpcClient) => Promise<T>;
type RawBody<T> = (daemon: TestDaemon, client: RpcClient, raw: RawConn) => Promise<T>;

/**
 * Runs `body` against a fresh daemon and a connected client, then always closes the client and
 * cleans up: stops the daemon by pid, kills its workers, removes its home — even when `body`
 * throws. A test that restarts the daemon mid-way uses startDaemon and cleanup instead.
 */
export async function withDaemon<T>(body: Body<T>): Promise<T>;
export async function withDaemon<T>(options: DaemonOptions & { raw: true }, body: RawBody<T>): Promise<T>;
export async function withDaemon<T>(options: DaemonOptions, body: Body<T>): Promise<T>;
export async function withDaemon<T>(first: DaemonOptions | Body<T>, second?: RawBody<T>): Promise<T> {
  const [options, body] = typeof first === "function" ? [{}, first as RawBody<T>] : [first, second!];
  const opened: Opened = { home: options.home ?? tempHome() };
  try {
    await openDaemon(options, opened);
    return await body(opened.daemon!, opened.client!, opened.raw!);
  } finally {
    await closeDaemon(opened);
  }
}

/** One daemon shared by the tests of a describe block; read its fields inside the tests. */
export interface SharedDaemon {
  readonly daemon: TestDaemon;
  readonly client: RpcClient;
  /** Only with `raw: true`. */
  readonly raw: RawConn;
}

/**
 * For a describe block whose tests share one daemon: starts it and connects (`before`), and
 * closes and cleans up as withDaemon does (`after`).
 */
export function shareDaemon(options: DaemonOptions = {}): SharedDaemon {
  let opened: Opened | undefined;
  before(async () => {
    opened = { home: options.home ?? tempHome() };
    await openDaemon(options, opened);
  });
  after(async () => {
    if (opened) await closeDaemon(opened);
  });
  const ready = <K extends keyof Opened>(key: K): NonNullable<Opened[K]> => {
    const v = opened?.[key];
    if (v === undefined) throw new Error(`the shared daemon's ${key} is not open${key === "raw" && !options.raw ? " (ask shareDaemon for raw: true)" : ""}`);
    return v as NonNullable<Opened[K]>;
  };
  return {
    get daemon() {
      return ready("daemon");
    },
    get client() {
      return ready("client");
    },
    get raw() {
      return ready("raw");
    },
  };
}
