// `cpwd service`: the generated systemd unit, launchd plist and task XML (checked by the real
// parsers where they exist), the manager's install/uninstall/status with a fake command runner,
// and the CLI command driven in-process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { run as serviceCommand, runService } from "../../cli/commands/service.js";
import type { CliContext } from "../../cli/context.js";
import { renderLaunchdPlist } from "../../cli/service/launchd.js";
import { installService, serviceStatus, serviceTarget, uninstallService, type RunResult } from "../../cli/service/manager.js";
import { buildServiceSpec, DAEMON_NODE_FLAGS, type ServicePlatform, type ServiceSpec } from "../../cli/service/spec.js";
import { quoteExecArg, renderSystemdUnit } from "../../cli/service/systemd.js";
import { encodeTaskXml, renderTaskXml } from "../../cli/service/windows-task.js";

// ---- helpers ---------------------------------------------------------------------------------

function tempDir(t: TestContext, prefix = "cpwd service "): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A spec whose paths have spaces and characters each format must escape. */
function awkwardSpec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    nodePath: "/opt/node js/bin/node",
    daemonScript: "/home/ann/my tools/cpwd & co/dist/daemon/main.js",
    home: `/home/ann/state dir/100% "cpwd" \\ O'Brien <x>`,
    label: "cpwd",
    env: { PATH: "/home/ann/.local/bin:/usr/bin", CPWD_LOG_LEVEL: "debug" },
    ...overrides,
  };
}

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

/** A fake command runner: records every call and answers from `answer` (default: success). */
function fakeRun(answer: (cmd: string, args: string[]) => RunResult = () => ({ code: 0, stdout: "", stderr: "" })) {
  const calls: string[] = [];
  const run = async (cmd: string, args: string[]) => {
    calls.push([cmd, ...args].join(" "));
    return answer(cmd, args);
  };
  return { calls, run };
}

const noBus = () => ({ code: 1, stdout: "", stderr: "Failed to connect to bus: No medium found\n" });

function linuxTarget(dir: string, spec: ServiceSpec = awkwardSpec()) {
  return serviceTarget("linux", spec, { env: { XDG_CONFIG_HOME: join(dir, "config") }, userHome: dir, uid: 1000 });
}

/** Runs a python3 snippet on stdin bytes and returns its JSON output, or undefined without python3. */
function python(code: string, input: Buffer): unknown {
  const r = spawnSync("python3", ["-c", code], { input });
  if (r.error) return undefined;
  assert.equal(r.status, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString());
}

function hasBinary(name: string): boolean {
  return !spawnSync(name, ["--version"]).error;
}

// ---- systemd ---------------------------------------------------------------------------------

test("the systemd unit quotes paths with spaces and escapes %, $, \\ and quotes", () => {
  const unit = renderSystemdUnit(awkwardSpec({ nodePath: "/opt/node js/bin/node$1" }));
  const flags = DAEMON_NODE_FLAGS.map((f) => `"${f}"`).join(" ");
  assert.ok(unit.includes(`\nExecStart="/opt/node js/bin/node$$1" ${flags} "/home/ann/my tools/cpwd & co/dist/daemon/main.js"\n`), unit);
  assert.ok(unit.includes(`Environment="CPWD_HOME=/home/ann/state dir/100%% \\"cpwd\\" \\\\ O'Brien <x>"\n`), unit);
  assert.match(unit, /^Environment="CPWD_SERVICE=1"$/m);
  assert.match(unit, /^Environment="PATH=\/home\/ann\/\.local\/bin:\/usr\/bin"$/m);
  assert.match(unit, /^Environment="CPWD_LOG_LEVEL=debug"$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^WantedBy=default\.target$/m);
});

test("ExecStart words stay bare when safe and are quoted otherwise", () => {
  const cases: Array<[string, string]> = [
    ["daemon", "daemon"],
    ["/usr/bin/node", "/usr/bin/node"],
    ["/a b/node", `"/a b/node"`],
    ["-x", `"-x"`],
    ["/50%", `"/50%%"`],
    ["/$HOME", `"/$$HOME"`],
    [`/q"\\`, `"/q\\"\\\\"`],
  ];
  for (const [arg, want] of cases) assert.equal(quoteExecArg(arg), want, arg);
});

test("a newline in a path is refused rather than written into the unit", () => {
  assert.throws(() => renderSystemdUnit(awkwardSpec({ home: "/home/ann/a\nExecStartPre=/bin/rm" })), /control character/);
  assert.throws(() => renderSystemdUnit(awkwardSpec({ daemonScript: "dist/main.js" })), /absolute/);
});

test("systemd-analyze verify accepts the generated unit (and rejects a broken one)", (t) => {
  if (!existsSync("/usr/bin/systemd-analyze") && !hasBinary("systemd-analyze")) {
    t.skip("systemd-analyze is not installed");
    return;
  }
  const dir = tempDir(t, "cpwd unit ");
  // verify checks that ExecStart's binary exists: the real node, and a real script under spaces.
  const scriptDir = join(dir, "my tools", "dist");
  mkdirSync(scriptDir, { recursive: true });
  const daemonScript = join(scriptDir, "main.js");
  writeFileSync(daemonScript, "");
  const runtime = join(dir, "runtime");
  mkdirSync(runtime, { mode: 0o700 });
  const verify = (unit: string) => {
    const file = join(dir, "cpwd.service");
    writeFileSync(file, unit);
    // --user wants a runtime dir; a private one works with or without a logged-in session.
    return spawnSync("systemd-analyze", ["--user", "verify", file], {
      encoding: "utf8",
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: "0" },
    });
  };
  const good = verify(renderSystemdUnit(awkwardSpec({ nodePath: process.execPath, daemonScript })));
  assert.equal(good.status, 0, good.stderr);
  assert.equal(good.stderr.trim(), "", "systemd-analyze printed warnings");
  const bad = verify(renderSystemdUnit(awkwardSpec({ nodePath: join(dir, "no such node"), daemonScript })));
  assert.notEqual(bad.status, 0, "verify should notice a missing ExecStart binary");
});

// ---- launchd ---------------------------------------------------------------------------------

test("the launchd plist parses and carries the program, CPWD_HOME, RunAtLoad and KeepAlive", (t) => {
  const spec = awkwardSpec({ label: "dev.cpwd.daemon", logPath: "/home/ann/state dir/service.log" });
  const parsed = python("import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))", Buffer.from(renderLaunchdPlist(spec)));
  if (parsed === undefined) {
    t.skip("python3 is not installed");
    return;
  }
  assert.deepEqual(parsed, {
    Label: "dev.cpwd.daemon",
    ProgramArguments: [spec.nodePath, ...DAEMON_NODE_FLAGS, spec.daemonScript],
    EnvironmentVariables: { PATH: spec.env.PATH, CPWD_LOG_LEVEL: "debug", CPWD_HOME: spec.home, CPWD_SERVICE: "1" },
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    AbandonProcessGroup: true,
    StandardOutPath: spec.logPath,
    StandardErrorPath: spec.logPath,
  });
});

// ---- Windows task ----------------------------------------------------------------------------

const TASK_FIELDS = `
import base64, json, sys, xml.etree.ElementTree as ET
ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
root = ET.fromstring(sys.stdin.buffer.read())
text = lambda path: root.find(path, ns).text
args = text("t:Actions/t:Exec/t:Arguments")
print(json.dumps({
  "command": text("t:Actions/t:Exec/t:Command"),
  "args": args,
  "script": base64.b64decode(args.split()[-1]).decode("utf-16-le"),
  "triggerUser": text("t:Triggers/t:LogonTrigger/t:UserId"),
  "principalUser": text("t:Principals/t:Principal/t:UserId"),
  "logonType": text("t:Principals/t:Principal/t:LogonType"),
  "timeLimit": text("t:Settings/t:ExecutionTimeLimit"),
}))
`;

test("the task XML is UTF-16LE with a BOM, parses, and runs the daemon with CPWD_HOME set", (t) => {
  const spec = awkwardSpec({
    nodePath: "C:\\Program Files\\nodejs\\node.exe",
    daemonScript: "C:\\Users\\Ann O'Brien\\npm  global\\cpwd\\dist\\daemon\\main.js",
    home: "C:\\Users\\Ann O'Brien\\AppData\\Local\\cpwd & co",
    env: {},
    account: "CORP\\ann",
  });
  const bytes = encodeTaskXml(renderTaskXml(spec));
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe]);
  assert.ok(bytes.subarray(2).toString("utf16le").startsWith('<?xml version="1.0" encoding="UTF-16"?>'));
  const parsed = python(TASK_FIELDS, bytes) as Record<string, string> | undefined;
  if (parsed === undefined) {
    t.skip("python3 is not installed");
    return;
  }
  assert.match(parsed.command!, /powershell\.exe$/);
  assert.match(parsed.args!, /-WindowStyle Hidden -EncodedCommand /);
  assert.equal(parsed.triggerUser, "CORP\\ann");
  assert.equal(parsed.principalUser, "CORP\\ann");
  assert.equal(parsed.logonType, "InteractiveToken");
  assert.equal(parsed.timeLimit, "PT0S", "a daemon must not be stopped after the default 72 hours");
  assert.equal(
    parsed.script,
    "$env:CPWD_HOME = 'C:\\Users\\Ann O''Brien\\AppData\\Local\\cpwd & co'; $env:CPWD_SERVICE = '1'; " +
      `& 'C:\\Program Files\\nodejs\\node.exe' ${DAEMON_NODE_FLAGS.map((f) => `'${f}'`).join(" ")} ` +
      "'C:\\Users\\Ann O''Brien\\npm  global\\cpwd\\dist\\daemon\\main.js'; exit $LASTEXITCODE",
  );
});

// ---- spec ------------------------------------------------------------------------------------

test("the service runs the daemon's own entry beside the CLI, not `cpwd daemon`", () => {
  const env = { HOME: "/home/ann", CPWD_HOME: "/home/ann/cpwd", USERPROFILE: "C:\\Users\\ann", USERNAME: "ann" };
  const linux = buildServiceSpec({ env, nodePath: "/usr/bin/node", cliScript: "/opt/cpwd/dist/cli/main.js" }, "linux");
  assert.equal(linux.daemonScript, "/opt/cpwd/dist/daemon/main.js");
  const win = buildServiceSpec({ env: { ...env, CPWD_HOME: "C:\\cpwd" }, nodePath: "C:\\node.exe", cliScript: "C:\\npm\\cpwd\\dist\\cli\\main.js" }, "win32");
  assert.equal(win.daemonScript, "C:\\npm\\cpwd\\dist\\daemon\\main.js");
});

test("the spec carries CPWD_HOME (absolute), PATH on Unix only, and never other variables", () => {
  const env = { HOME: "/home/ann", CPWD_HOME: "rel/home", PATH: "/bin", ANTHROPIC_API_KEY: "secret", CPWD_LOG_LEVEL: "warn" };
  const ctx = { env, nodePath: "/usr/bin/node", cliScript: "/opt/cpwd/dist/cli/main.js" };
  const linux = buildServiceSpec(ctx, "linux");
  assert.equal(linux.home, join(process.cwd(), "rel/home"));
  assert.deepEqual(linux.env, { PATH: "/bin", CPWD_LOG_LEVEL: "warn" });
  assert.equal(linux.label, "cpwd");
  const mac = buildServiceSpec({ ...ctx, env: { HOME: "/Users/ann", PATH: "/bin" } }, "darwin");
  assert.equal(mac.home, "/Users/ann/Library/Application Support/cpwd");
  assert.equal(mac.label, "dev.cpwd.daemon");
  assert.equal(mac.logPath, "/Users/ann/Library/Application Support/cpwd/service.log");
  const win = buildServiceSpec({ ...ctx, env: { ...env, USERNAME: "ann", USERDOMAIN: "CORP" } }, "win32");
  assert.deepEqual(win.env, { CPWD_LOG_LEVEL: "warn" });
  assert.equal(win.account, "CORP\\ann");
});

// ---- manager ---------------------------------------------------------------------------------

test("install writes the unit and runs daemon-reload then enable --now when systemd answers", async (t) => {
  const dir = tempDir(t);
  const target = linuxTarget(dir);
  const { calls, run } = fakeRun();
  const out = new Capture();
  assert.equal(await installService(target, { run, out }), 0);
  assert.equal(target.filePath, join(dir, "config", "systemd", "user", "cpwd.service"));
  assert.deepEqual(readFileSync(target.filePath), target.contents);
  assert.deepEqual(calls, ["systemctl --user daemon-reload", "systemctl --user enable --now cpwd.service"]);
  assert.match(out.text, /enabled and started with systemd/);
});

test("install keeps the file, exits 0 and prints the one command when systemd does not answer", async (t) => {
  const dir = tempDir(t);
  const target = linuxTarget(dir);
  const { calls, run } = fakeRun(noBus);
  const out = new Capture();
  assert.equal(await installService(target, { run, out }), 0);
  assert.ok(existsSync(target.filePath));
  assert.deepEqual(calls, ["systemctl --user daemon-reload"], "stops at the first unanswered command");
  assert.match(out.text, /systemd did not answer .*No medium found/);
  assert.match(out.text, /^ {2}systemctl --user enable --now cpwd\.service$/m);
});

test("install treats a missing systemctl (a throwing runner) like a silent manager", async (t) => {
  const dir = tempDir(t);
  const out = new Capture();
  const run = async () => {
    throw new Error("spawn systemctl ENOENT");
  };
  assert.equal(await installService(linuxTarget(dir), { run, out }), 0);
  assert.match(out.text, /ENOENT[\s\S]*systemctl --user enable --now cpwd\.service/);
});

test("reinstalling the same unit is idempotent; a changed one restarts the running service", async (t) => {
  const dir = tempDir(t);
  await installService(linuxTarget(dir), { run: fakeRun().run, out: new Capture() });
  const again = fakeRun();
  const out = new Capture();
  assert.equal(await installService(linuxTarget(dir), { run: again.run, out }), 0);
  assert.match(out.text, /already up to date/);
  assert.deepEqual(again.calls, ["systemctl --user daemon-reload", "systemctl --user enable --now cpwd.service"]);
  assert.equal(readdirSync(join(dir, "config", "systemd", "user")).length, 1, "no temp file left behind");

  const changedSpec = awkwardSpec({ env: { PATH: "/usr/bin" } });
  const changed = fakeRun();
  await installService(linuxTarget(dir, changedSpec), { run: changed.run, out: new Capture() });
  assert.deepEqual(changed.calls, [
    "systemctl --user daemon-reload",
    "systemctl --user try-restart cpwd.service",
    "systemctl --user enable --now cpwd.service",
  ]);
  assert.equal(readFileSync(linuxTarget(dir, changedSpec).filePath, "utf8"), renderSystemdUnit(changedSpec));
});

test("launchd: install bootstraps a new plist and only kickstarts an unchanged one", async (t) => {
  const dir = tempDir(t);
  const spec = awkwardSpec({ label: "dev.cpwd.daemon" });
  const target = serviceTarget("darwin", spec, { env: {}, userHome: dir, uid: 501 });
  assert.equal(target.filePath, join(dir, "Library", "LaunchAgents", "dev.cpwd.daemon.plist"));
  const first = fakeRun();
  await installService(target, { run: first.run, out: new Capture() });
  assert.deepEqual(first.calls, [
    "launchctl enable gui/501/dev.cpwd.daemon",
    "launchctl bootout gui/501/dev.cpwd.daemon",
    `launchctl bootstrap gui/501 ${target.filePath}`,
  ]);
  // Already loaded: bootstrap fails (optional), kickstart confirms launchd has it.
  const second = fakeRun((_cmd, args) => (args[0] === "bootstrap" ? { code: 5, stdout: "", stderr: "Bootstrap failed: 5" } : { code: 0, stdout: "", stderr: "" }));
  const out = new Capture();
  await installService(target, { run: second.run, out });
  assert.equal(second.calls.at(-1), "launchctl kickstart gui/501/dev.cpwd.daemon");
  assert.match(out.text, /enabled and started with launchd/);
});

test("a CPWD_SERVICE_DIR outside systemd's folders is enabled by path", async (t) => {
  const dir = tempDir(t);
  const target = serviceTarget("linux", awkwardSpec(), { env: {}, userHome: dir, uid: 1000, dir: join(dir, "elsewhere") });
  const { calls, run } = fakeRun();
  await installService(target, { run, out: new Capture() });
  assert.equal(calls.at(-1), `systemctl --user enable --now ${join(dir, "elsewhere", "cpwd.service")}`);
});

test("uninstall disables, removes the file and reloads; without a manager it still removes the file", async (t) => {
  const dir = tempDir(t);
  const target = linuxTarget(dir);
  await installService(target, { run: fakeRun().run, out: new Capture() });
  const { calls, run } = fakeRun();
  const out = new Capture();
  assert.equal(await uninstallService(target, { run, out }), 0);
  assert.ok(!existsSync(target.filePath));
  assert.deepEqual(calls, ["systemctl --user disable --now cpwd.service", "systemctl --user daemon-reload"]);
  assert.match(out.text, /^removed /m);

  await installService(target, { run: fakeRun(noBus).run, out: new Capture() });
  assert.equal(await uninstallService(target, { run: fakeRun(noBus).run, out: new Capture() }), 0);
  assert.ok(!existsSync(target.filePath));

  const nothing = fakeRun();
  const again = new Capture();
  assert.equal(await uninstallService(target, { run: nothing.run, out: again }), 0);
  assert.match(again.text, /not installed/);
  assert.deepEqual(nothing.calls, []);
});

test("status says not installed (exit 3), installed with the manager's view, or out of date", async (t) => {
  const dir = tempDir(t);
  const target = linuxTarget(dir);
  const out = new Capture();
  assert.equal(await serviceStatus(target, { run: fakeRun(noBus).run, out }), 3);
  assert.match(out.text, /not installed[\s\S]*systemd did not answer/);

  await installService(target, { run: fakeRun().run, out: new Capture() });
  const shown = new Capture();
  const view = fakeRun(() => ({ code: 0, stdout: "LoadState=loaded\nActiveState=active\n", stderr: "" }));
  assert.equal(await serviceStatus(target, { run: view.run, out: shown }), 0);
  assert.match(shown.text, /^installed: .*cpwd\.service$/m);
  assert.match(shown.text, /^ {2}ActiveState=active$/m);
  assert.match(view.calls[0]!, /^systemctl --user show cpwd\.service /);

  writeFileSync(target.filePath, "[Service]\n");
  const stale = new Capture();
  await serviceStatus(target, { run: fakeRun().run, out: stale });
  assert.match(stale.text, /differs/);
});

test("dry runs write, remove and run nothing", async (t) => {
  const dir = tempDir(t);
  const target = linuxTarget(dir);
  const { calls, run } = fakeRun();
  const out = new Capture();
  assert.equal(await installService(target, { run, out, dryRun: true }), 0);
  assert.ok(!existsSync(join(dir, "config")), "no folder created");
  assert.ok(out.text.includes(target.text.trimEnd()));
  assert.match(out.text, /would run:\n {2}systemctl --user daemon-reload\n {2}systemctl --user enable --now cpwd\.service/);

  await installService(target, { run, out: new Capture() });
  calls.length = 0;
  const un = new Capture();
  assert.equal(await uninstallService(target, { run, out: un, dryRun: true }), 0);
  assert.ok(existsSync(target.filePath));
  assert.match(un.text, /would remove /);
  assert.deepEqual(calls, []);
});

// ---- the CLI command -------------------------------------------------------------------------

function cliContext(env: NodeJS.ProcessEnv): CliContext & { stdout: Capture; stderr: Capture } {
  return { env, cwd: tmpdir(), stdout: new Capture(), stderr: new Capture(), cliScript: "/opt/cpwd app/dist/cli/main.js", nodePath: "/usr/bin/node" };
}

test("`cpwd service install --dry-run` prints each platform's file and writes nothing", async (t) => {
  const dir = tempDir(t);
  const serviceDir = join(dir, "service files");
  const expected: Record<ServicePlatform, RegExp> = {
    linux: /would write .*cpwd\.service:\n[\s\S]*ExecStart=\/usr\/bin\/node "--v8-pool-size=1" "\/opt\/cpwd app\/dist\/daemon\/main\.js"\n[\s\S]*systemctl --user enable --now/,
    darwin: /would write .*dev\.cpwd\.daemon\.plist:\n[\s\S]*<key>RunAtLoad<\/key>[\s\S]*launchctl bootstrap gui\//,
    win32: /would write .*cpwd-task\.xml \(UTF-16LE with BOM[\s\S]*<LogonTrigger>[\s\S]*schtasks \/Create \/TN cpwd \/XML/,
  };
  for (const platform of ["linux", "darwin", "win32"] as const) {
    const ctx = cliContext({ HOME: dir, CPWD_HOME: join(dir, "home"), CPWD_SERVICE_PLATFORM: platform, CPWD_SERVICE_DIR: serviceDir });
    assert.equal(await serviceCommand(["install", "--dry-run"], ctx), 0, ctx.stderr.text);
    assert.match(ctx.stdout.text, expected[platform]);
    assert.ok(ctx.stdout.text.includes(join(dir, "home")), "CPWD_HOME is carried");
    assert.ok(!existsSync(serviceDir), `${platform}: nothing written`);
  }
});

test("`cpwd service install`, `status` and `uninstall` drive the manager through the runner", async (t) => {
  const dir = tempDir(t);
  const env = { HOME: dir, CPWD_HOME: join(dir, "home"), CPWD_SERVICE_PLATFORM: "linux", CPWD_SERVICE_DIR: join(dir, "units") };
  const { calls, run } = fakeRun(noBus);
  const install = cliContext(env);
  assert.equal(await runService(["install"], install, { run }), 0);
  assert.ok(existsSync(join(dir, "units", "cpwd.service")));
  assert.match(install.stdout.text, /to start cpwd at login, run:\n {2}systemctl --user enable --now /);
  const status = cliContext(env);
  assert.equal(await runService(["status"], status, { run }), 0);
  assert.match(status.stdout.text, /^installed: /m);
  assert.equal(await runService(["uninstall"], cliContext(env), { run }), 0);
  assert.ok(!existsSync(join(dir, "units", "cpwd.service")));
  assert.equal(await runService(["status"], cliContext(env), { run }), 3);
  assert.ok(calls.every((c) => c.startsWith("systemctl --user ")));
});

test("bad arguments are a one-line error on stderr and exit 2; --help documents the overrides", async () => {
  const bad: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], {}, /needs install, uninstall or status/],
    [["restart"], {}, /unknown action restart/],
    [["install", "now"], {}, /unexpected argument now/],
    [["install", "--force"], {}, /unknown option --force/],
    [["status"], { CPWD_SERVICE_PLATFORM: "beos" }, /CPWD_SERVICE_PLATFORM must be linux, darwin or win32/],
  ];
  for (const [argv, env, message] of bad) {
    const ctx = cliContext({ HOME: tmpdir(), CPWD_HOME: join(tmpdir(), "x"), ...env });
    assert.equal(await runService(argv, ctx, { run: fakeRun().run }), 2, argv.join(" "));
    assert.match(ctx.stderr.text, message);
    assert.equal(ctx.stderr.text.trimEnd().split("\n").length, 1);
    assert.equal(ctx.stdout.text, "");
  }
  const help = cliContext({});
  assert.equal(await runService(["--help"], help, { run: fakeRun().run }), 0);
  assert.match(help.stdout.text, /CPWD_SERVICE_PLATFORM/);
  assert.match(help.stdout.text, /CPWD_SERVICE_DIR/);
});
