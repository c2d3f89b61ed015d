// What a login service runs, independent of the service manager: the node binary, the daemon's
// entry, CPWD_HOME and the environment it carries; plus the shape every platform module returns.
import { homedir } from "node:os";
import { posix, win32 } from "node:path";
import { resolveHome } from "../../src/platform/paths.js";
import { DAEMON_NODE_FLAGS, daemonEntryOf } from "../../src/platform/daemon-launch.js";

export { DAEMON_NODE_FLAGS, daemonEntryOf };
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";

/** The platforms with a service manager cpwd knows: systemd, launchd, Task Scheduler. */
export type ServicePlatform = "linux" | "darwin" | "win32";

/** Everything a generator needs; all paths absolute for the target platform. */
export interface ServiceSpec {
  /** The node binary the service runs (absolute). */
  nodePath: string;
  /** The daemon's own entry, `dist/daemon/main.js` (absolute): run with no arguments, it is the daemon. */
  daemonScript: string;
  /** CPWD_HOME, carried into the service so it and the CLI agree on where the daemon lives. */
  home: string;
  /** The manager's name for the service: `cpwd` (unit, task) or `dev.cpwd.daemon` (launchd). */
  label: string;
  /** Where the manager sends the daemon's stdout/stderr, when it does not keep a journal itself. */
  logPath?: string;
  /** Extra environment beyond CPWD_HOME and CPWD_SERVICE, in the order written. */
  env: Record<string, string>;
  /** The account the service runs as, where the manager needs it (Windows `DOMAIN\user`). */
  account?: string;
}

/** One command a manager runs; `optional` ones may fail without meaning "the manager is absent". */
export interface ServiceCommand {
  cmd: string;
  args: string[];
  optional?: boolean;
}

/** What install found on disk, which decides whether a running service must be restarted. */
export interface InstallState {
  /** A service file was already there. */
  existed: boolean;
  /** The file's bytes differ from what is being written now (true when it did not exist). */
  changed: boolean;
}

/** A platform's service: its file, and the commands around it. Built by systemd/launchd/windows-task. */
export interface ServiceTarget {
  platform: ServicePlatform;
  /** For messages: "systemd", "launchd", "Task Scheduler". */
  manager: string;
  /** Where the file goes. */
  filePath: string;
  /** The bytes written. */
  contents: Buffer;
  /** The same contents as text, for --dry-run and status. */
  text: string;
  /** A note on the encoding shown beside the file, when it is not plain UTF-8. */
  encodingNote?: string;
  /** Run after writing the file, in order: enable and start. */
  install(state: InstallState): ServiceCommand[];
  /** The one command a user runs when the manager did not answer at install time. */
  manualInstall: ServiceCommand;
  /** Run before removing the file (stop, disable); failures tolerated. */
  uninstallBefore: ServiceCommand[];
  /** Run after removing the file (reload); failures tolerated. */
  uninstallAfter: ServiceCommand[];
  /** Asks the manager what it knows about the service. */
  query: ServiceCommand;
  /** Picks the lines of the query's stdout worth showing. */
  summarize(stdout: string): string[];
}

/** CPWD_SERVICE=1 tells `cpwd daemon` it runs under a manager: foreground, and logs to stderr too. */
export const SERVICE_ENV_FLAG = "CPWD_SERVICE";

/**
 * Variables copied from the installing shell when set. PATH matters on Linux and macOS: systemd and
 * launchd start services with a minimal PATH, where `claude` (often in ~/.local/bin) is not found.
 * Task Scheduler starts the task with the user's full logon environment, so Windows copies no PATH.
 * Nothing secret is copied: the file is world-readable in the user's config folder.
 */
const CARRIED_ENV = ["CPWD_LOG_LEVEL", "CPWD_CLAUDE_BIN"] as const;

/** The manager's label for each platform. */
export function defaultLabel(platform: ServicePlatform): string {
  return platform === "darwin" ? "dev.cpwd.daemon" : "cpwd";
}

/** The full environment a service sets: extras first, then CPWD_HOME and CPWD_SERVICE=1, which win. */
export function serviceEnvironment(spec: ServiceSpec): Array<[string, string]> {
  const merged = { ...spec.env, CPWD_HOME: spec.home, [SERVICE_ENV_FLAG]: "1" };
  return Object.entries(merged);
}

/** The user's home folder as the target platform spells it in the environment. */
export function userHomeOf(env: NodeJS.ProcessEnv, platform: ServicePlatform): string {
  const fromEnv = platform === "win32" ? (env.USERPROFILE ?? env.HOME) : env.HOME;
  return fromEnv && fromEnv !== "" ? fromEnv : homedir();
}

/** The part of a CliContext the spec is built from (declared here so this layer never imports the CLI). */
export interface ServiceContext {
  env: NodeJS.ProcessEnv;
  nodePath: string;
  cliScript: string;
}

/** Builds the spec for `platform` from a CLI invocation's context (a CliContext fits). */
export function buildServiceSpec(ctx: ServiceContext, platform: ServicePlatform): ServiceSpec {
  const home = resolveHome({
    env: ctx.env,
    platform,
    home: userHomeOf(ctx.env, platform),
    uid: typeof process.getuid === "function" ? process.getuid() : 0,
  });
  const env: Record<string, string> = {};
  if (platform !== "win32" && ctx.env.PATH) env.PATH = ctx.env.PATH;
  for (const name of CARRIED_ENV) {
    const value = ctx.env[name];
    if (value !== undefined && value !== "") env[name] = value;
  }
  const spec: ServiceSpec = { nodePath: ctx.nodePath, daemonScript: daemonEntryOf(ctx.cliScript, platform), home, label: defaultLabel(platform), env };
  // launchd has no journal: without a path the daemon's stderr is lost. daemon.log stays pino's own.
  if (platform === "darwin") spec.logPath = posix.join(home, "service.log");
  if (platform === "win32" && ctx.env.USERNAME) {
    spec.account = ctx.env.USERDOMAIN ? `${ctx.env.USERDOMAIN}\\${ctx.env.USERNAME}` : ctx.env.USERNAME;
  }
  validateServiceSpec(spec, platform);
  return spec;
}

/** Throws INVALID_ARGUMENT naming the field when a path is relative or a value has a control character. */
export function validateServiceSpec(spec: ServiceSpec, platform: ServicePlatform): void {
  const isAbsolute = platform === "win32" ? win32.isAbsolute : posix.isAbsolute;
  for (const [field, value] of [["nodePath", spec.nodePath], ["daemonScript", spec.daemonScript], ["home", spec.home]] as const) {
    if (!isAbsolute(value)) throw new CpwdError(ErrorCode.InvalidArgument, `service ${field} must be an absolute path (got ${JSON.stringify(value)})`);
  }
  for (const [name, value] of serviceEnvironment(spec)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CpwdError(ErrorCode.InvalidArgument, `bad environment variable name ${JSON.stringify(name)}`);
    assertNoControlChars(name, value);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.label)) throw new CpwdError(ErrorCode.InvalidArgument, `bad service label ${JSON.stringify(spec.label)}`);
  assertNoControlChars("nodePath", spec.nodePath);
  assertNoControlChars("daemonScript", spec.daemonScript);
  if (spec.logPath !== undefined) assertNoControlChars("logPath", spec.logPath);
}

/** No format here can carry a newline or other control character safely; refuse rather than mangle. */
export function assertNoControlChars(what: string, value: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new CpwdError(ErrorCode.InvalidArgument, `${what} contains a control character: ${JSON.stringify(value)}`);
  }
}

/**
 * Escapes text for XML content or a double-quoted attribute (plist, task XML). `'` stays as it is,
 * which keeps paths readable. Control characters are refused: XML 1.0 cannot carry most of them.
 */
export function escapeXml(text: string): string {
  assertNoControlChars("XML text", text);
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
