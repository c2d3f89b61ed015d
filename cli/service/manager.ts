// Installs, removes and reports the login service for one platform: the file first, then the service
// manager. Commands go through an injected runner, so tests never touch a real service manager, and
// a manager that does not answer (no user bus, no launchctl) leaves the file and the one command
// to run by hand rather than a failure.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { readIfExists, writeAtomically } from "../../src/platform/atomic-file.js";
import { launchAgentsDir, launchdPlistName, launchdTarget } from "./launchd.js";
import type { ServiceCommand, ServicePlatform, ServiceSpec, ServiceTarget } from "./spec.js";
import { systemdTarget, systemdUnitDir, systemdUnitName } from "./systemd.js";
import { taskXmlPath, windowsTaskTarget } from "./windows-task.js";

/** What running one command gave. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command without a shell. Injected: tests pass a fake that records the calls. */
export type RunCommand = (cmd: string, args: string[]) => Promise<RunResult>;

/** How install, uninstall and status act. */
export interface ManagerOptions {
  run: RunCommand;
  /** Where the report goes. */
  out: Writable;
  /** Print the file and the commands; write, remove and run nothing. @default false */
  dryRun?: boolean;
}

/** Where a platform's file goes and who asks for it. */
export interface TargetOptions {
  env: NodeJS.ProcessEnv;
  userHome: string;
  uid: number;
  /** CPWD_SERVICE_DIR: write the file in this folder instead of the manager's own. */
  dir?: string;
}

/** Exit code of `status` when no service file is installed (as `cpwd status` uses for "not running"). */
export const EXIT_NOT_INSTALLED = 3;

/** Builds the platform's target: its file's path and contents, and the manager's commands. */
export function serviceTarget(platform: ServicePlatform, spec: ServiceSpec, opts: TargetOptions): ServiceTarget {
  const dir = opts.dir === undefined || opts.dir === "" ? undefined : resolve(opts.dir);
  if (platform === "linux") {
    const standard = systemdUnitDir(opts.env, opts.userHome);
    return systemdTarget(spec, join(dir ?? standard, systemdUnitName(spec)), dir === undefined || dir === resolve(standard));
  }
  if (platform === "darwin") return launchdTarget(spec, join(dir ?? launchAgentsDir(opts.userHome), launchdPlistName(spec)), opts.uid);
  return windowsTaskTarget(spec, dir === undefined ? taskXmlPath(spec.home) : taskXmlPath(dir));
}

/** Writes the file (unless it already holds these bytes), then enables and starts the service. */
export async function installService(target: ServiceTarget, opts: ManagerOptions): Promise<number> {
  const existing = await readIfExists(target.filePath);
  const existed = existing !== undefined;
  const changed = !existed || !existing.equals(target.contents);
  const commands = target.install({ existed, changed });
  const say = (line = "") => opts.out.write(`${line}\n`);
  if (opts.dryRun) {
    say("dry run: nothing is written and nothing is run");
    say(`${changed ? "would write" : "already up to date, would keep"} ${target.filePath}${target.encodingNote ? ` (${target.encodingNote})` : ""}:`);
    say(target.text.replace(/\r\n/g, "\n").trimEnd());
    say("would run:");
    for (const c of commands) say(`  ${formatCommand(c, target.platform)}${c.optional ? "   (may fail)" : ""}`);
    return 0;
  }
  if (changed) await writeAtomically(target.filePath, target.contents);
  say(changed ? `wrote ${target.filePath}` : `${target.filePath} is already up to date`);
  for (const c of commands) {
    const r = await attempt(opts.run, c);
    if (r.ok || c.optional) continue;
    say(`${target.manager} did not answer (${formatCommand(c, target.platform)}: ${r.detail}).`);
    say("The file is in place; to start cpwd at login, run:");
    say(`  ${formatCommand(target.manualInstall, target.platform)}`);
    return 0;
  }
  say(`enabled and started with ${target.manager}: the daemon now starts at login`);
  return 0;
}

/** Stops and disables the service where the manager answers, then removes the file. */
export async function uninstallService(target: ServiceTarget, opts: ManagerOptions): Promise<number> {
  const say = (line = "") => opts.out.write(`${line}\n`);
  const existed = (await readIfExists(target.filePath)) !== undefined;
  if (!existed) {
    say(`not installed: no ${target.filePath}`);
    return 0;
  }
  if (opts.dryRun) {
    say("dry run: nothing is removed and nothing is run");
    for (const c of target.uninstallBefore) say(`would run: ${formatCommand(c, target.platform)}`);
    say(`would remove ${target.filePath}`);
    for (const c of target.uninstallAfter) say(`would run: ${formatCommand(c, target.platform)}`);
    return 0;
  }
  // Failures are expected here (already stopped, manager absent) and only reported.
  const runAll = async (commands: ServiceCommand[]) => {
    for (const c of commands) {
      const r = await attempt(opts.run, c);
      if (!r.ok) say(`  (${formatCommand(c, target.platform)}: ${r.detail})`);
    }
  };
  await runAll(target.uninstallBefore);
  await rm(target.filePath, { force: true });
  await runAll(target.uninstallAfter);
  say(`removed ${target.filePath}`);
  return 0;
}

/** Says whether the file is installed and current, and what the manager reports when it answers. */
export async function serviceStatus(target: ServiceTarget, opts: ManagerOptions): Promise<number> {
  const say = (line = "") => opts.out.write(`${line}\n`);
  const existing = await readIfExists(target.filePath);
  if (existing === undefined) say(`not installed: no ${target.filePath}`);
  else if (existing.equals(target.contents)) say(`installed: ${target.filePath}`);
  else say(`installed: ${target.filePath} (differs from what \`cpwd service install\` would write now; run it to update)`);
  if (opts.dryRun) {
    say(`would run: ${formatCommand(target.query, target.platform)}`);
  } else {
    const r = await attempt(opts.run, target.query);
    if (r.ok) {
      say(`${target.manager}:`);
      for (const line of target.summarize(r.stdout)) say(`  ${line}`);
    } else {
      say(`${target.manager} did not answer (${formatCommand(target.query, target.platform)}: ${r.detail})`);
    }
  }
  return existing === undefined ? EXIT_NOT_INSTALLED : 0;
}

/** A command as a user would type it: POSIX shell quoting, or cmd.exe's double quotes on Windows. */
export function formatCommand(c: ServiceCommand, platform: ServicePlatform): string {
  const quote =
    platform === "win32"
      ? (a: string) => (/^[A-Za-z0-9_/\\.:=+%-]+$/.test(a) ? a : `"${a}"`)
      : (a: string) => (/^[A-Za-z0-9_/.:=+%@,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [c.cmd, ...c.args].map(quote).join(" ");
}

/** The real runner: no shell, output captured, a hard deadline; a missing binary is exit 127. */
export function spawnCommand(timeoutMs = 30_000): RunCommand {
  return (cmd, args) =>
    new Promise((done) => {
      const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        stderr += `\ntimed out after ${timeoutMs} ms`;
      }, timeoutMs);
      child.on("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        done({ code: err.code === "ENOENT" ? 127 : 126, stdout, stderr: `${cmd}: ${err.message}` });
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        done({ code: code ?? 124, stdout, stderr });
      });
    });
}

async function attempt(run: RunCommand, c: ServiceCommand): Promise<{ ok: boolean; stdout: string; detail: string }> {
  try {
    const r = await run(c.cmd, c.args);
    const said = (r.stderr.trim() || r.stdout.trim()).split("\n")[0]?.trim() ?? "";
    return { ok: r.code === 0, stdout: r.stdout, detail: `exit ${r.code}${said ? `: ${said}` : ""}` };
  } catch (err) {
    return { ok: false, stdout: "", detail: (err as Error).message ?? String(err) };
  }
}

