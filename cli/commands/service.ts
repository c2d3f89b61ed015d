// `cpwd service install|uninstall|status [--dry-run]`: registers the daemon with the platform's own
// service manager (systemd user unit, launchd agent, Task Scheduler logon task) so it starts at login.
import { resolve } from "node:path";
import { isCpwdError } from "../../src/protocol/errors.js";
import { EXIT_NOT_INSTALLED, installService, serviceStatus, serviceTarget, spawnCommand, uninstallService, type RunCommand } from "../service/manager.js";
import { buildServiceSpec, userHomeOf, type ServicePlatform, type ServiceTarget } from "../service/spec.js";
import { parseArgs } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";

const HELP = `usage: cpwd service install|uninstall|status [--dry-run]

Starts the cpwd daemon at login through the platform's service manager:
  Linux    a systemd user unit, ~/.config/systemd/user/cpwd.service
  macOS    a launchd agent, ~/Library/LaunchAgents/dev.cpwd.daemon.plist
  Windows  a Task Scheduler logon task "cpwd" (its XML kept in CPWD_HOME\\cpwd-task.xml)

  install     write the file, then enable and start the service; when the manager does not
              answer, keep the file and print the one command to run
  uninstall   stop and disable the service where possible, and remove the file
  status      whether the file is installed and current, and what the manager says
              (exit ${EXIT_NOT_INSTALLED} when not installed)

options:
  --dry-run   print the file and the commands; write, remove and run nothing
  --help      this text

environment:
  CPWD_HOME              carried into the service, with PATH, CPWD_LOG_LEVEL and CPWD_CLAUDE_BIN
  CPWD_SERVICE_PLATFORM  linux|darwin|win32: act as on that platform (see its file with --dry-run)
  CPWD_SERVICE_DIR       write the service file in this folder instead of the manager's own
`;

const PLATFORMS: readonly ServicePlatform[] = ["linux", "darwin", "win32"];
const ACTIONS = { install: installService, uninstall: uninstallService, status: serviceStatus } as const;

/** What the command needs from the outside world; tests pass a fake runner and platform. */
export interface ServiceCommandDeps {
  run: RunCommand;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** @default process.getuid() (0 where there is none) */
  uid?: number;
}

/** Runs `cpwd service …` with injected dependencies; `run` below wires the real ones. */
export async function runService(argv: string[], ctx: CliContext, deps: ServiceCommandDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv, { "dry-run": { kind: "bool" }, help: { kind: "bool", short: "h" } });
  } catch (err) {
    writeLine(ctx.stderr, `cpwd service: ${(err as Error).message} (see cpwd service --help)`);
    return 2;
  }
  if (parsed.flags.help) {
    ctx.stdout.write(HELP);
    return 0;
  }
  const [action, ...extra] = [...parsed.positionals, ...parsed.rest];
  if (action === undefined || !(action in ACTIONS) || extra.length > 0) {
    const what = action === undefined ? "needs install, uninstall or status" : extra.length > 0 ? `unexpected argument ${extra[0]}` : `unknown action ${action}`;
    writeLine(ctx.stderr, `cpwd service: ${what} (see cpwd service --help)`);
    return 2;
  }
  const target = servicePlatform(ctx, deps);
  if ("error" in target) {
    writeLine(ctx.stderr, `cpwd service: ${target.error}`);
    return target.usage ? 2 : 1;
  }
  try {
    const where = serviceTargetFor(ctx, target.platform, deps);
    return await ACTIONS[action as keyof typeof ACTIONS](where, { run: deps.run, out: ctx.stdout, dryRun: parsed.flags["dry-run"] === true });
  } catch (err) {
    // A bad spec (relative path, control character) or a file system error: one line, not a stack.
    const e = err as NodeJS.ErrnoException;
    writeLine(ctx.stderr, `cpwd service ${action}: ${e.message}${isCpwdError(err) ? "" : e.code ? ` (${e.code})` : ""}`);
    return 1;
  }
}

/** The platform whose service cpwd manages here (CPWD_SERVICE_PLATFORM, else this one), or why there is none. */
export function servicePlatform(ctx: CliContext, deps: Pick<ServiceCommandDeps, "platform"> = {}): { platform: ServicePlatform } | { error: string; usage: boolean } {
  const override = ctx.env.CPWD_SERVICE_PLATFORM;
  const platform = override && override !== "" ? override : (deps.platform ?? process.platform);
  if (PLATFORMS.includes(platform as ServicePlatform)) return { platform: platform as ServicePlatform };
  const why = override ? `CPWD_SERVICE_PLATFORM must be linux, darwin or win32 (got ${override})` : `no service manager support on ${platform}; use \`cpwd start\``;
  return { error: why, usage: Boolean(override) };
}

/** The service `cpwd service install` would set up from `ctx`: its file, contents and commands. Throws on a bad spec. */
export function serviceTargetFor(ctx: CliContext, platform: ServicePlatform, deps: Pick<ServiceCommandDeps, "uid"> = {}): ServiceTarget {
  return serviceTarget(platform, buildServiceSpec(ctx, platform), {
    env: ctx.env,
    userHome: userHomeOf(ctx.env, platform),
    uid: deps.uid ?? (typeof process.getuid === "function" ? process.getuid() : 0),
    dir: ctx.env.CPWD_SERVICE_DIR ? resolve(ctx.cwd, ctx.env.CPWD_SERVICE_DIR) : undefined,
  });
}

/** `cpwd service …` with the real command runner. */
export const run: Command = (argv, ctx) => runService(argv, ctx, { run: spawnCommand() });
