// Windows: the Task Scheduler logon task that runs the daemon, its XML (UTF-16LE), where the copy
// cpwd keeps lives, and the schtasks commands around it. Pure: strings in, bytes out.
import { join } from "node:path";
import { DAEMON_NODE_FLAGS, escapeXml, serviceEnvironment, validateServiceSpec, type ServiceCommand, type ServiceSpec, type ServiceTarget } from "./spec.js";

/** Task Scheduler keeps the task itself; cpwd keeps the XML it registered beside its other files. */
export function taskXmlPath(home: string): string {
  return join(home, "cpwd-task.xml");
}

/**
 * A PowerShell single-quoted string. Only the quote itself is special inside, doubled to escape;
 * PowerShell also treats the typographic single quotes (U+2018–U+201B) as quotes, so those too.
 */
export function quotePowerShell(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/** The PowerShell script the task runs: set the environment, run the daemon, pass its exit code on. */
export function renderTaskScript(spec: ServiceSpec): string {
  const env = serviceEnvironment(spec).map(([k, v]) => `$env:${k} = ${quotePowerShell(v)}`);
  const run = `& ${[spec.nodePath, ...DAEMON_NODE_FLAGS, spec.daemonScript].map(quotePowerShell).join(" ")}`;
  return [...env, run, "exit $LASTEXITCODE"].join("; ");
}

/**
 * The script as `-EncodedCommand` wants it: base64 of UTF-16LE. A task's Exec action has no place for
 * environment variables, so the task runs PowerShell, which sets them and starts node. Encoding
 * the script avoids every layer of command-line quoting between Task Scheduler, powershell.exe's own
 * argument parser (which drops double quotes and collapses runs of spaces) and the paths.
 * PowerShell's -WindowStyle Hidden also hides the console window node would otherwise keep open.
 */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

const POWERSHELL = "%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

/** The task's XML text (declared UTF-16; see encodeTaskXml). */
export function renderTaskXml(spec: ServiceSpec): string {
  validateServiceSpec(spec, "win32");
  const script = renderTaskScript(spec);
  const args = `-NoProfile -NonInteractive -WindowStyle Hidden -EncodedCommand ${encodePowerShell(script)}`;
  const user = spec.account === undefined ? [] : [`      <UserId>${escapeXml(spec.account)}</UserId>`];
  const lines = [
    '<?xml version="1.0" encoding="UTF-16"?>',
    "<!-- Written by `cpwd service install`; remove it with `cpwd service uninstall`. -->",
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    "  <RegistrationInfo>",
    `    <Description>${escapeXml(`Starts the cpwd daemon at logon. The encoded PowerShell command is: ${script}`)}</Description>`,
    `    <URI>\\${escapeXml(spec.label)}</URI>`,
    "  </RegistrationInfo>",
    "  <Triggers>",
    "    <LogonTrigger>",
    "      <Enabled>true</Enabled>",
    ...user,
    "    </LogonTrigger>",
    "  </Triggers>",
    "  <Principals>",
    '    <Principal id="Author">',
    ...user,
    // Runs in the user's own session, without a stored password and without admin rights.
    "      <LogonType>InteractiveToken</LogonType>",
    "      <RunLevel>LeastPrivilege</RunLevel>",
    "    </Principal>",
    "  </Principals>",
    "  <Settings>",
    "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
    // The defaults stop a task on battery and after 72 hours: wrong for a daemon.
    "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>",
    "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>",
    "    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
    // Best effort: Task Scheduler retries a task that fails; the hook shim also starts a missing daemon.
    "    <RestartOnFailure>",
    "      <Interval>PT1M</Interval>",
    "      <Count>10</Count>",
    "    </RestartOnFailure>",
    "    <AllowStartOnDemand>true</AllowStartOnDemand>",
    "    <Enabled>true</Enabled>",
    "    <Hidden>false</Hidden>",
    // The default, 7, is below normal and would slow the daemon's answers to hooks.
    "    <Priority>5</Priority>",
    "  </Settings>",
    '  <Actions Context="Author">',
    "    <Exec>",
    `      <Command>${escapeXml(POWERSHELL)}</Command>`,
    `      <Arguments>${escapeXml(args)}</Arguments>`,
    "    </Exec>",
    "  </Actions>",
    "</Task>",
    "",
  ];
  return lines.join("\r\n");
}

/**
 * The bytes written: UTF-16LE with a byte-order mark. `schtasks /Create /XML` reads the file as
 * UTF-16 (what Task Scheduler itself exports); a UTF-8 file is rejected or, without a BOM, read in
 * the ANSI code page so that non-ASCII letters in a user's path come out wrong.
 */
export function encodeTaskXml(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
}

function schtasks(args: string[], optional = false): ServiceCommand {
  return optional ? { cmd: "schtasks", args, optional } : { cmd: "schtasks", args };
}

/** The task as a ServiceTarget. */
export function windowsTaskTarget(spec: ServiceSpec, filePath: string): ServiceTarget {
  const text = renderTaskXml(spec);
  const name = spec.label;
  // /F replaces an existing task of that name: this is what makes a reinstall idempotent.
  const create = schtasks(["/Create", "/TN", name, "/XML", filePath, "/F"]);
  return {
    platform: "win32",
    manager: "Task Scheduler",
    filePath,
    contents: encodeTaskXml(text),
    text,
    encodingNote: "UTF-16LE with BOM, as schtasks /XML expects",
    // A running daemon keeps going on a changed task: /End may stop only PowerShell and leave node
    // holding the single-instance lock. The new definition applies from the next logon.
    install: () => [
      create,
      // IgnoreNew makes /Run a no-op when the daemon's task is already running.
      schtasks(["/Run", "/TN", name]),
    ],
    manualInstall: create,
    uninstallBefore: [schtasks(["/End", "/TN", name], true), schtasks(["/Delete", "/TN", name, "/F"], true)],
    uninstallAfter: [],
    query: schtasks(["/Query", "/TN", name, "/V", "/FO", "LIST"]),
    summarize: (stdout) => {
      const lines = stdout.split(/\r?\n/);
      const picked = lines.filter((l) => /^(TaskName|Status|Last Run Time|Last Result|Next Run Time):/.test(l));
      // Field names are translated on non-English Windows: show the start of the raw list instead.
      return picked.length > 0 ? picked : lines.filter((l) => l.trim() !== "").slice(0, 20);
    },
  };
}
