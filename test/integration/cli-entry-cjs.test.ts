// dist/cli/main.cjs, the CommonJS entry of `cpwd` (scripts/bundle-cli.mjs): `status` runs without
// Node's ES module loader, from a bundle compiled with the V8 code cache made at build (what makes it
// the fast entry), and the commands it loads at run time (ES modules, with their own copy of
// CpwdError) still get their usage errors said as usage errors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Script } from "node:vm";
import { REPO, shareDaemon, testEnv, withHome } from "../helpers/daemon.js";

const CJS_CLI = join(REPO, "dist", "cli", "main.cjs");
const dir = mkdtempSync(join(tmpdir(), "cpwd-cjs-entry-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CommonJS entry; `modules` lists the Node built-ins and loaders the process used. */
function runCjs(home: string, args: string[]) {
  const preload = join(dir, "module-list.cjs");
  const list = join(dir, `modules-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`);
  const r = spawnSync(process.execPath, ["--require", preload, CJS_CLI, ...args], { env: testEnv(home), encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules: readFileSync(list, "utf8").split("\n") };
}

describe("the CommonJS entry with a daemon running", () => {
  const shared = shareDaemon();

  test("status shows the daemon without starting the ES module loader or loading fs/promises", () => {
    const r = runCjs(shared.daemon.home, ["status"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`running, pid ${shared.daemon.pid}`));
    assert.deepEqual(r.modules.filter((m) => /modules\/esm\/(module_job|translators|load)$|NativeModule fs\/promises$/.test(m)), []);
  });

  test("status --json is the daemon's status", () => {
    const r = runCjs(shared.daemon.home, ["status", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).daemon.pid, shared.daemon.pid);
  });
});

test("through the CommonJS entry, a usage error of a command loaded at run time exits 2 with its usage", () => withHome((home) => {
  const r = runCjs(home, ["stop", "--bogus"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^cpwd stop: unknown option --bogus\nusage: cpwd stop/);
}));

test("through the CommonJS entry, status with the daemon down shows the record and --version the version", () => withHome((home) => {
  const down = runCjs(home, ["status"]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /cpwd daemon is not running/);
  const version = runCjs(home, ["--version"]);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version);
}));

test("the code cache made at build is one this Node's V8 accepts for the bundle main.cjs runs", () => {
  const loader = readFileSync(CJS_CLI, "utf8");
  const [bundleName, cacheName] = [/main-bundle\.[0-9a-f]+\.cjs/, /main-bundle\.[0-9a-f]+\.v8/].map((re) => re.exec(loader)?.[0]);
  assert.ok(bundleName && cacheName, "main.cjs names its bundle and its cache");
  assert.equal(bundleName.replace(/\.cjs$/, ""), cacheName.replace(/\.v8$/, ""), "a pair of the same build");
  const bundle = join(REPO, "dist", "cli", bundleName);
  const script = new Script(readFileSync(bundle, "utf8"), { filename: bundle, cachedData: readFileSync(join(REPO, "dist", "cli", cacheName)) });
  assert.equal(script.cachedDataRejected, false);
});
