// The daemon's life: start/stop/status through the CLI, one instance per home, stale sockets,
// many clients at once, and long home paths.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { probeDaemon } from "../../src/rpc/probe.js";
import { CLI, cleanup, cpwd, pathsFor, startDaemon, tempHome, testEnv, waitFor, waitGone, withDaemon, type TestDaemon } from "../helpers/daemon.js";

function pidOf(home: string): number {
  const r = cpwd(home, ["status", "--json"]);
  return JSON.parse(r.stdout).daemon.pid as number;
}

/** The process is gone, or a zombie: exited, waiting for its parent (or init) to reap it. */
function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return false;
  }
}

describe("cpwd start / status / stop", () => {
  test("start returns once the daemon answers, is a no-op when running, and stop waits until it is gone", async () => {
    const home = tempHome();
    let pid: number | undefined;
    try {
      // Down, status reads the (empty) record on disk and says so: exit 0 (offline-status-claims.test.ts).
      const down = cpwd(home, ["status"]);
      assert.equal(down.code, 0);
      assert.match(down.stdout, /not running/);
      assert.match(down.stderr, /the daemon is not running/);
      const downJson = cpwd(home, ["status", "--json"]);
      assert.equal(downJson.code, 0);
      assert.equal(JSON.parse(downJson.stdout).daemon, null);

      const started = cpwd(home, ["start"]);
      assert.equal(started.code, 0, started.stderr);
      pid = pidOf(home);
      const again = cpwd(home, ["start"]);
      assert.equal(again.code, 0);
      assert.match(again.stdout, new RegExp(`already running \\(pid ${pid}\\)`));

      const status = cpwd(home, ["status", "--json"]);
      const s = JSON.parse(status.stdout);
      assert.equal(s.daemon.pid, pid);
      assert.equal(s.daemon.home, home);
      assert.equal(s.daemon.socket, pathsFor(home).socket);
      assert.deepEqual(s.workers, []);
      assert.ok(s.lastSeq >= 1);
      assert.ok(typeof s.daemon.uptimeMs === "number" && typeof s.daemon.version === "string");
      const human = cpwd(home, ["status"]);
      assert.match(human.stdout, new RegExp(`pid ${pid}`));

      const stopped = cpwd(home, ["stop"]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.ok(exited(pid), `pid ${pid} has exited`);
      assert.equal(existsSync(pathsFor(home).socket), false, "socket removed on clean stop");
      assert.match(cpwd(home, ["status"]).stderr, /the daemon is not running/);
    } finally {
      if (pid) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("stop counts a daemon that exited but is not reaped yet (a zombie) as stopped", { skip: process.platform !== "linux" }, async () => {
    const home = tempHome();
    // `exec sleep` makes the daemon's parent a process that never reaps its children.
    const parent = spawn("sh", ["-c", `"${process.execPath}" "${CLI}" daemon & exec sleep 600`], { env: testEnv(home), stdio: "ignore" });
    let pid: number | undefined;
    try {
      pid = await waitFor("the daemon to answer", async () => (await probeDaemon(pathsFor(home).socket, 200))?.pid);
      const stopped = cpwd(home, ["stop"], { CPWD_STOP_TIMEOUT_MS: "60000" });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, new RegExp(`stopped \\(pid ${pid}\\)`));
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      assert.equal(stat[stat.lastIndexOf(")") + 2], "Z", "the daemon is a zombie: exited, not reaped");
    } finally {
      if (pid) process.kill(pid, "SIGKILL"); // harmless on a zombie; stops a daemon that failed to stop
      parent.kill("SIGKILL"); // its zombie child goes to init, which reaps it
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("SIGTERM shuts the daemon down gracefully and records daemon.stopped", () => withDaemon(async (d) => {
    d.proc.kill("SIGTERM");
    assert.equal(await d.exited, 0);
    const lines = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).type, "daemon.stopped");
    assert.match(lines.at(-1).payload.reason, /SIGTERM/);
  }));
});

describe("one daemon per home", () => {
  test("a second daemon exits non-zero and names the running one's pid", () => withDaemon(async (d) => {
    const second = cpwd(d.home, ["daemon"]);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`already running.*pid ${d.pid}`));
    // The first one is untouched: a new connection still reaches it.
    const c = await d.client();
    assert.equal((await c.call("ping")).pid, d.pid);
    c.close();
  }));

  test("a stale socket left by a killed daemon is replaced, and seq continues", async () => {
    let d: TestDaemon | undefined = await startDaemon();
    const home = d.home;
    try {
      const c = await d.client();
      const { seq } = await c.call("events.append", { type: "ext.before", payload: {} });
      c.close();
      await d.kill9();
      await waitGone(d.pid);
      assert.ok(existsSync(d.paths.socket), "kill -9 leaves the socket file behind");
      d = await startDaemon(home);
      const c2 = await d.client();
      const r = await c2.call("events.read", { fromSeq: seq });
      c2.close();
      assert.deepEqual(
        r.events.map((e) => e.type),
        ["ext.before", "daemon.started"],
      );
      assert.equal(r.events[1]!.seq, seq + 1);
    } finally {
      await cleanup(d, home);
    }
  });
});

describe("clients", () => {
  test("200 concurrent clients are all served", () => withDaemon(async (d) => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => d.client()));
    const replies = await Promise.all(clients.map((c, i) => c.call("events.append", { type: "ext.concurrent", payload: { i } })));
    const seqs = replies.map((r) => r.seq).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, 200);
    assert.equal(seqs.at(-1)! - seqs[0]!, 199, "no gaps");
    const pings = await Promise.all(clients.map((c) => c.call("ping")));
    assert.ok(pings.every((p) => p.pid === d.pid));
    for (const c of clients) c.close();
  }));

  test("a long CPWD_HOME path works through a short hashed socket path", async () => {
    const base = tempHome();
    const home = join(base, "a-very-long-folder-name-".repeat(6), "and-deeper-still");
    mkdirSync(home, { recursive: true });
    const paths = pathsFor(home);
    assert.ok(Buffer.byteLength(join(home, "run", "cpwd.sock")) > 104);
    assert.ok(Buffer.byteLength(paths.socket) <= 103);
    try {
      await withDaemon({ home }, async () => {
        const status = cpwd(home, ["status", "--json"]);
        assert.equal(status.code, 0, status.stderr);
        assert.equal(JSON.parse(status.stdout).daemon.socket, paths.socket);
      });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
