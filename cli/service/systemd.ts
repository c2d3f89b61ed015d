// Linux: the systemd user unit that runs the daemon at login, where it lives, and the systemctl
// commands around it. Pure: strings in, strings out.
import { join } from "node:path";
import { assertNoControlChars, DAEMON_NODE_FLAGS, serviceEnvironment, validateServiceSpec, type ServiceCommand, type ServiceSpec, type ServiceTarget } from "./spec.js";

/** `cpwd` → `cpwd.service`. */
export function systemdUnitName(spec: ServiceSpec): string {
  return `${spec.label}.service`;
}

/** The user unit folder systemd searches: `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`. */
export function systemdUnitDir(env: NodeJS.ProcessEnv, userHome: string): string {
  const config = env.XDG_CONFIG_HOME;
  return join(config && config.startsWith("/") ? config : join(userHome, ".config"), "systemd", "user");
}

/** `%` starts a specifier in every unit setting; `%%` is a literal percent. */
function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, "%%");
}

/**
 * One word of ExecStart=. systemd splits the line on whitespace, honours double quotes with C
 * escapes inside them, expands `%` specifiers and `$VAR` / `${VAR}`; so a path with spaces is
 * quoted, `\` and `"` are backslash-escaped, `%` doubled and `$` doubled. A word that needs none
 * of that stays bare, which keeps the line readable.
 */
export function quoteExecArg(arg: string): string {
  assertNoControlChars("ExecStart argument", arg);
  if (/^[A-Za-z0-9_/.,:=+-]+$/.test(arg) && !/^[-@:+!]/.test(arg)) return arg;
  const escaped = escapeSpecifiers(arg.replace(/[\\"]/g, (c) => `\\${c}`)).replace(/\$/g, () => "$$");
  return `"${escaped}"`;
}

/**
 * One Environment= assignment, always quoted as a whole (`"NAME=value"`): the value may hold spaces.
 * Inside quotes systemd unescapes `\\` and `\"` and expands `%` specifiers; `$` means nothing here.
 */
export function quoteEnvironment(name: string, value: string): string {
  assertNoControlChars(name, value);
  return `"${escapeSpecifiers(`${name}=${value}`.replace(/[\\"]/g, (c) => `\\${c}`))}"`;
}

/** The unit file's text. */
export function renderSystemdUnit(spec: ServiceSpec): string {
  validateServiceSpec(spec, "linux");
  const exec = [spec.nodePath, ...DAEMON_NODE_FLAGS, spec.daemonScript].map(quoteExecArg).join(" ");
  const lines = [
    "# Written by `cpwd service install`; remove it with `cpwd service uninstall`.",
    "[Unit]",
    "Description=cpwd daemon (Claude Parallel Workers Daemon)",
    // Give up after 5 failed starts in a minute instead of restarting a broken install forever.
    "StartLimitIntervalSec=60",
    "StartLimitBurst=5",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    ...serviceEnvironment(spec).map(([k, v]) => `Environment=${quoteEnvironment(k, v)}`),
    "Restart=on-failure",
    "RestartSec=2",
    // Workers outlive the daemon (their wrappers keep the exit status on disk) and a restarted daemon
    // re-adopts them; the default KillMode=control-group would kill every worker on stop or restart.
    "KillMode=process",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ];
  return lines.join("\n");
}

function systemctl(...args: string[]): ServiceCommand {
  return { cmd: "systemctl", args: ["--user", ...args] };
}

/**
 * The unit as a ServiceTarget. `inSearchPath` is false when CPWD_SERVICE_DIR put the file outside
 * systemd's folders: `enable` is then given the file's path, which links it in.
 */
export function systemdTarget(spec: ServiceSpec, filePath: string, inSearchPath: boolean): ServiceTarget {
  const text = renderSystemdUnit(spec);
  const name = systemdUnitName(spec);
  const enable = systemctl("enable", "--now", inSearchPath ? name : filePath);
  return {
    platform: "linux",
    manager: "systemd",
    filePath,
    contents: Buffer.from(text, "utf8"),
    text,
    install: ({ existed, changed }) => [
      systemctl("daemon-reload"),
      // `enable --now` leaves a running daemon alone, so a changed unit needs an explicit restart.
      ...(existed && changed ? [systemctl("try-restart", name)] : []),
      enable,
    ],
    // `enable` reloads systemd's configuration itself, so this one command is enough by hand.
    manualInstall: enable,
    uninstallBefore: [systemctl("disable", "--now", name)],
    uninstallAfter: [systemctl("daemon-reload")],
    query: systemctl("show", name, "--property=LoadState,UnitFileState,ActiveState,SubState,MainPID"),
    summarize: (stdout) => stdout.split("\n").filter((l) => l.trim() !== ""),
  };
}
