// How the resident daemon is started: `cpwd start` runs the daemon's own entry
// (`node dist/daemon/main.js`), which holds none of the CLI, while `cpwd daemon` keeps running the
// daemon in the foreground of the command itself.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DAEMON_NODE_FLAGS } from "../../src/platform/daemon-launch.js";
import { probeDaemon } from "../../src/rpc/probe.js";
import { commandLine, killAll } from "../helpers/kill.js";
import { CLI, DAEMON, REPO, cpwd, pathsFor, testEnv, waitFor, waitGone, withHome } from "../helpers/daemon.js";

test("`cpwd start` leaves the daemon's own entry running, not the CLI", async () => {
  await withHome(async (home) => {
    let pid: number | undefined;
    try {
      const started = cpwd(home, ["start"]);
      assert.equal(started.code, 0, started.stderr);
      pid = JSON.parse(cpwd(home, ["status", "--json"]).stdout).daemon.pid as number;
      const args = commandLine(pid);
      assert.ok(args.endsWith(DAEMON), `the daemon runs ${args}`);
      assert.ok(!args.includes(CLI), `the daemon runs ${args}`);
      // With fewer idle threads (cli/service/spec.ts): each keeps a stack and a malloc arena.
      assert.ok(args.includes(" --v8-pool-size=1 "), `the daemon runs ${args}`);
      assert.equal(cpwd(home, ["stop"]).code, 0);
      await waitGone(pid);
      pid = undefined;
    } finally {
      if (pid) killAll([pid]);
    }
  });
});

test("the daemon's entry refuses arguments and names them", () => {
  const r = spawnSync(process.execPath, [DAEMON, "--foreground"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /takes no arguments \(got --foreground\)/);
});

test("`cpwd daemon` still runs the daemon in its own process, says so, and exits 0 on SIGTERM", async () => {
  await withHome(async (home) => {
    const proc = spawn(process.execPath, [CLI, "daemon"], { env: testEnv(home), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    try {
      const answer = await waitFor("the daemon to answer ping", () => probeDaemon(pathsFor(home).socket, 200), 30_000);
      assert.equal(answer.pid, proc.pid);
      await waitFor("its line on stderr", () => stderr.includes("cpwd daemon running"));
      proc.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
  });
});

test("`npm start` runs the daemon as `cpwd start` does: its own entry, with the same flags", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, ["npm run build && node", ...DAEMON_NODE_FLAGS, "dist/daemon/main.js"].join(" "));
});
