// macOS: the launchd LaunchAgent plist that runs the daemon at login, where it lives, and the
// launchctl commands around it. Pure: strings in, strings out.
import { join } from "node:path";
import { DAEMON_NODE_FLAGS, escapeXml, serviceEnvironment, validateServiceSpec, type ServiceCommand, type ServiceSpec, type ServiceTarget } from "./spec.js";

/** `~/Library/LaunchAgents`: launchd loads every agent there at login. */
export function launchAgentsDir(userHome: string): string {
  return join(userHome, "Library", "LaunchAgents");
}

/** `dev.cpwd.daemon` → `dev.cpwd.daemon.plist` (launchd expects the file named after the label). */
export function launchdPlistName(spec: ServiceSpec): string {
  return `${spec.label}.plist`;
}

function str(value: string): string {
  return `<string>${escapeXml(value)}</string>`;
}

/** The plist's text (XML property list, UTF-8). */
export function renderLaunchdPlist(spec: ServiceSpec): string {
  validateServiceSpec(spec, "darwin");
  const env = serviceEnvironment(spec).flatMap(([k, v]) => [`\t\t<key>${escapeXml(k)}</key>`, `\t\t${str(v)}`]);
  const logs = spec.logPath === undefined ? [] : ["\t<key>StandardOutPath</key>", `\t${str(spec.logPath)}`, "\t<key>StandardErrorPath</key>", `\t${str(spec.logPath)}`];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Written by `cpwd service install`; remove it with `cpwd service uninstall`. -->",
    '<plist version="1.0">',
    "<dict>",
    "\t<key>Label</key>",
    `\t${str(spec.label)}`,
    "\t<key>ProgramArguments</key>",
    "\t<array>",
    ...[spec.nodePath, ...DAEMON_NODE_FLAGS, spec.daemonScript].map((a) => `\t\t${str(a)}`),
    "\t</array>",
    "\t<key>EnvironmentVariables</key>",
    "\t<dict>",
    ...env,
    "\t</dict>",
    "\t<key>RunAtLoad</key>",
    "\t<true/>",
    // Restart after a crash but not after `cpwd stop` (exit 0): the same rule as systemd's
    // Restart=on-failure. A bare `<true/>` would restart the daemon the moment `cpwd stop` ends it.
    "\t<key>KeepAlive</key>",
    "\t<dict>",
    "\t\t<key>SuccessfulExit</key>",
    "\t\t<false/>",
    "\t</dict>",
    // Workers outlive the daemon and are re-adopted; launchd would otherwise kill what is left in
    // the job's process group when the daemon exits.
    "\t<key>AbandonProcessGroup</key>",
    "\t<true/>",
    ...logs,
    "</dict>",
    "</plist>",
    "",
  ];
  return lines.join("\n");
}

/** The per-user GUI domain launchd keeps login agents in: `gui/<uid>`. */
export function launchdDomain(uid: number): string {
  return `gui/${uid}`;
}

function launchctl(args: string[], optional = false): ServiceCommand {
  return optional ? { cmd: "launchctl", args, optional } : { cmd: "launchctl", args };
}

/** The plist as a ServiceTarget for the user `uid`. */
export function launchdTarget(spec: ServiceSpec, filePath: string, uid: number): ServiceTarget {
  const text = renderLaunchdPlist(spec);
  const domain = launchdDomain(uid);
  const service = `${domain}/${spec.label}`;
  const bootstrap = launchctl(["bootstrap", domain, filePath]);
  return {
    platform: "darwin",
    manager: "launchd",
    filePath,
    contents: Buffer.from(text, "utf8"),
    text,
    install: ({ changed }) =>
      changed
        ? // launchd keeps the plist it loaded: a changed one takes effect only after bootout + bootstrap.
          [launchctl(["enable", service], true), launchctl(["bootout", service], true), bootstrap]
        : // Unchanged: bootstrap fails harmlessly when already loaded; kickstart then starts it if stopped.
          [launchctl(["enable", service], true), launchctl(["bootstrap", domain, filePath], true), launchctl(["kickstart", service])],
    manualInstall: bootstrap,
    uninstallBefore: [launchctl(["bootout", service], true)],
    uninstallAfter: [],
    query: launchctl(["print", service]),
    summarize: (stdout) => {
      const picked = stdout.split("\n").filter((l) => /^\s*(state|pid|last exit code|runs) =/.test(l)).map((l) => l.trim());
      return picked.length > 0 ? picked : stdout.split("\n").filter((l) => l.trim() !== "").slice(0, 20);
    },
  };
}
