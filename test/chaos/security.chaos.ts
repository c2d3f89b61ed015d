// Chaos 6: security.
//
// Load: a daemon whose own environment and whose workers' environments hold secret-looking values
// (`*_KEY`, `*_TOKEN`, `*SECRET*`, `*PASSWORD*`, and `*_CRED` added in config.json), some of them
// also in commands, names and meta, as a shell's expansion puts them there; clients trying to
// reach outside `workers/` with names and targets (`../`, absolute paths, NUL, control characters,
// 10 kB strings) over RPC and through the CLI; and, where the test runs as root, a client run as
// `nobody` (setpriv) trying the socket, CPWD_HOME, the record, the fallback log and a worker's log.
// Must hold: no secret value reaches events.jsonl, `status`, worker views, `events.read`, a digest
// or the CLI's output, while each worker still gets its environment; every escaping name or target
// is refused (INVALID_PARAMS or NOT_FOUND) and nothing outside `workers/` is read, written or
// removed; `nobody` is refused at every door (EACCES), and everything under CPWD_HOME is private
// (folders 0700, files 0600). Without root the other-user part is skipped with a message.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLI, cpwd, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { runShim } from "../helpers/shim.js";
import { figure, killHomeProcesses } from "./chaos-helpers.js";

const SECRETS = {
  DAEMON_API_KEY: "daemon-key-81d0c3aa", // in the daemon's own environment
  GH_TOKEN: "ghp_chaos7Qz9xW2vL4",
  MY_SECRET_THING: "s3cr3t-thing-5521",
  DB_PASSWORD: "pw-correct-horse-99",
  AWS_CRED: "cred-from-config-4417", // secret only because config.json says *_CRED
};
const PLAIN = "plain-value-visible-1";

/** Runs `script` (JavaScript) as `nobody` with setpriv; null when this cannot be done. */
function asNobody(script: string, args: string[]): { code: number | null; stdout: string; stderr: string } | null {
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script, ...args], { encoding: "utf8", timeout: 30_000 });
  if (r.error || (r.status !== 0 && /setpriv: /.test(r.stderr))) return null;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every path under `dir` whose mode lets anyone but the owner in (sockets included). */
function notPrivate(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if ((st.mode & 0o077) !== 0) out.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) out.push(...notPrivate(p));
  }
  return out;
}

test("security: secrets never shown, names cannot escape workers/, another user is refused at every door", { timeout: 120_000 }, async (t) => {
  const home = tempHome("cpwd-chaos-security-");
  const paths = pathsFor(home);
  // Things outside workers/ that nothing may touch: beside the home, and in it.
  const outside = mkdtempSync(join(tmpdir(), "cpwd-chaos-victim-"));
  const sentinels = [join(outside, "victim"), join(home, "victim")];
  for (const s of sentinels) writeFileSync(s, "SENTINEL-CONTENT");
  writeFileSync(paths.config, JSON.stringify({ secretEnvNames: ["*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_CRED"] }));
  let d: TestDaemon | undefined;
  let c: RpcClient | undefined;
  try {
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn", DAEMON_API_KEY: SECRETS.DAEMON_API_KEY });
    c = await d.client();

    // ---- secrets ------------------------------------------------------------------------------
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GH_TOKEN: SECRETS.GH_TOKEN, MY_SECRET_THING: SECRETS.MY_SECRET_THING, DB_PASSWORD: SECRETS.DB_PASSWORD, AWS_CRED: SECRETS.AWS_CRED, PLAIN };
    const all = Object.values(SECRETS);
    const ids: string[] = [];
    // Commands with the values expanded into them, a value as the name, values in meta.
    ids.push(String((await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `echo ${SECRETS.GH_TOKEN} ${SECRETS.AWS_CRED} $MY_SECRET_THING $DB_PASSWORD $PLAIN`], cwd: "/", env, name: SECRETS.MY_SECRET_THING, meta: { note: `uses ${SECRETS.DB_PASSWORD}` } })).worker.id));
    ids.push(String((await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `echo ${SECRETS.DAEMON_API_KEY}; exit 3`], cwd: "/", env })).worker.id));
    await c.call("events.append", { type: "ext.note", payload: { said: `the token is ${SECRETS.GH_TOKEN}`, [SECRETS.AWS_CRED]: true } });
    await waitFor("the workers to end", async () => (await c!.call("worker.list")).workers.every((w) => ["exited", "failed"].includes(String(w.state))), 30_000, 50);
    const log = readFileSync(join(paths.workers, ids[0]!, "logs", "stdout.log"), "utf8");
    assert.equal(log, `${SECRETS.GH_TOKEN} ${SECRETS.AWS_CRED} ${SECRETS.MY_SECRET_THING} ${SECRETS.DB_PASSWORD} ${PLAIN}\n`, "the worker got its environment and its command");
    // A hook call from a session whose folder happens to hold a secret, and a digest for another.
    await runShim(home, { hook_event_name: "PostToolUse", session_id: "s-sec", tool_name: "Read", tool_input: { file_path: `/home/u/${SECRETS.DAEMON_API_KEY}/x` }, cwd: `/tmp/${SECRETS.GH_TOKEN}` }, { CPWD_LOG_LEVEL: "warn" });
    const digest = await c.call("hook.handle", { event: { hook_event_name: "SessionStart", session_id: "s-digest", source: "startup" } });
    assert.match(JSON.stringify(digest), new RegExp(ids[0]!), "the digest tells of the workers");
    const shown = [
      JSON.stringify(await c.call("status")),
      JSON.stringify(await c.call("worker.list")),
      JSON.stringify(await c.call("worker.get", { target: ids[0]! })),
      JSON.stringify(await c.call("events.read", { fromSeq: 0, limit: 10_000 })),
      JSON.stringify(digest),
      cpwd(home, ["status"]).stdout,
      cpwd(home, ["status", "--json"]).stdout,
      cpwd(home, ["events", "-n", "1000"]).stdout,
      cpwd(home, ["replay", "--json"]).stdout,
    ];
    const places = ["status", "worker.list", "worker.get", "events.read", "digest", "cpwd status", "cpwd status --json", "cpwd events", "cpwd replay"];
    shown.forEach((text, i) => {
      for (const s of all) assert.ok(!text.includes(s), `${places[i]} shows the secret ${s}`);
    });
    assert.ok(shown[3]!.includes(PLAIN) || shown[0]!.includes("[redacted]"), "what is not secret is still shown");
    await c.call("daemon.shutdown", {});
    await d.exited;
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn", DAEMON_API_KEY: SECRETS.DAEMON_API_KEY });
    c.close();
    c = await d.client();
    const record = readFileSync(paths.events, "utf8");
    for (const s of all) assert.ok(!record.includes(s), `events.jsonl holds the secret ${s}`);
    assert.ok(record.includes("[redacted]"));

    // ---- names and ids that try to leave workers/ --------------------------------------------
    const hostile = ["../victim", "../../" + outside.slice(1) + "/victim", "/etc/passwd", outside, `W1/../../victim`, "..", ".", "W1\u0000", "a\nb", "\u001b[2J\u001b[31mred", "x".repeat(10_000), "W1/../W2", "~", "$(touch /tmp/pwned)"];
    let refused = 0;
    for (const name of hostile) {
      await c.call("worker.spawn", { argv: ["/bin/true"], cwd: "/", env: {}, name }).then(
        async ({ worker }) => {
          // Only a plain dotted name may pass the name rule; it is a label, never a path.
          assert.match(name, /^\.{1,2}$/, `the name ${JSON.stringify(name)} was taken`);
          await c!.call("worker.remove", { target: String(worker.id), force: true }).catch(() => undefined);
        },
        (err: { code?: string }) => {
          assert.equal(err.code, "INVALID_PARAMS", `the name ${JSON.stringify(name.slice(0, 40))}`);
          refused++;
        },
      );
      for (const method of ["worker.get", "worker.stop", "worker.kill", "worker.restart", "worker.remove"] as const) {
        await c.call(method, { target: name } as never).then(
          () => assert.fail(`${method} ${JSON.stringify(name.slice(0, 40))} found a worker`),
          (err: { code?: string }) => {
            assert.ok(["NOT_FOUND", "INVALID_PARAMS"].includes(String(err.code)), `${method} ${JSON.stringify(name.slice(0, 40))}: ${err.code}`);
            refused++;
          },
        );
      }
      await c.call("events.append", { type: "ext.probe", worker: name.slice(0, 1000), session: name.slice(0, 1000), payload: {} }).catch(() => undefined);
      await c.call("hook.handle", { workerId: name.slice(0, 1000), event: { hook_event_name: "PreToolUse", session_id: "s-esc", tool_name: "Write", tool_input: { file_path: name.slice(0, 1000) } } }).catch(() => undefined);
    }
    // Through the CLI too (each call a process: a few of the names).
    for (const name of ["../victim", "/etc/passwd", `${outside}/victim`, "W1/../../victim", ".."]) {
      for (const args of [["logs", name], ["logs", name, "--stderr"], ["rm", name, "--force"]]) {
        const r = cpwd(home, args);
        assert.notEqual(r.code, 0, `cpwd ${args[0]} ${JSON.stringify(name.slice(0, 40))} did something`);
        assert.ok(!/SENTINEL-CONTENT|root:x:0:0/.test(r.stdout + r.stderr), `cpwd ${args[0]} ${JSON.stringify(name.slice(0, 40))} printed a file outside workers/`);
        refused++;
      }
    }
    for (const s of sentinels) assert.equal(readFileSync(s, "utf8"), "SENTINEL-CONTENT", `${s} is untouched`);
    assert.ok(!existsSync("/tmp/pwned"), "nothing ran a name as a command");
    const entries = readdirSync(paths.workers);
    assert.ok(entries.every((e) => /^W\d+$/.test(e)), `workers/ holds worker folders only: ${entries.join(", ")}`);
    assert.deepEqual(readdirSync(outside), ["victim"], "nothing was made beside the home");

    // ---- private to the user, and another user refused ----------------------------------------
    const open = notPrivate(home).filter((p) => !p.startsWith(join(home, "victim")) && !p.startsWith(paths.config));
    assert.deepEqual(open, [], "everything cpwd writes is private (0700 folders, 0600 files)");
    let nobodyFigure = "skipped (not root: cannot run a client as another user)";
    if (process.getuid?.() !== 0) {
      t.diagnostic("the other-user part needs root (setpriv to nobody): skipped");
    } else {
      const probe = `
        const fs = require("node:fs"), net = require("node:net");
        const [home, socket, events, fallback, log] = process.argv.slice(1);
        const tries = {
          "connect to the socket": () => new Promise((res) => { const s = net.connect(socket); s.on("connect", () => { s.destroy(); res("connected"); }); s.on("error", (e) => res(e.code)); }),
          "list CPWD_HOME": () => fs.readdirSync(home),
          "read events.jsonl": () => fs.readFileSync(events, "utf8").slice(0, 10),
          "append to the fallback log": () => fs.appendFileSync(fallback, "{}\\n"),
          "read a worker's log": () => fs.readFileSync(log, "utf8").slice(0, 10),
          "stat the socket": () => String(fs.statSync(socket).mode),
        };
        (async () => {
          const out = {};
          for (const [what, f] of Object.entries(tries)) { try { out[what] = String(await f()); } catch (e) { out[what] = e.code; } }
          console.log(JSON.stringify(out));
        })();`;
      const r = asNobody(probe, [home, paths.socket, paths.events, paths.fallback, join(paths.workers, ids[0]!, "logs", "stdout.log")]);
      if (!r) {
        t.diagnostic("setpriv could not switch to nobody: the other-user part is skipped");
        nobodyFigure = "skipped (setpriv failed)";
      } else {
        const results = JSON.parse(r.stdout) as Record<string, string>;
        for (const [what, result] of Object.entries(results)) assert.equal(result, "EACCES", `nobody could ${what}: ${result}`);
        // And the CLI as nobody, where nobody can read it, says so in a sentence.
        const cliReadable = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "test", "-r", CLI]).status === 0;
        if (cliReadable) {
          const s = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, "status"], { env: { ...process.env, CPWD_HOME: home }, encoding: "utf8", timeout: 30_000 });
          assert.notEqual(s.status, 0, "cpwd status as nobody fails");
          assert.doesNotMatch(s.stdout + s.stderr, /\n\s+at /, "without a stack trace");
        }
        nobodyFigure = `nobody refused at ${Object.keys(results).length} doors (EACCES)${cliReadable ? ", cpwd status as nobody fails cleanly" : ""}`;
      }
    }
    c.close();
    c = undefined;
    await d.stop();
    figure(
      "security",
      `${all.length} secret values (one from config's *_CRED, one the daemon's own) in env, argv, a name, meta, an event, a hook: none in events.jsonl, status, views, events.read, digest or CLI output, workers got theirs; ` +
        `${hostile.length} escaping names × spawn and 5 methods, 5 through the CLI: ${refused} refusals, nothing outside workers/ touched; everything under CPWD_HOME private; ${nobodyFigure}`,
    );
  } finally {
    c?.close();
    if (d) await d.stop();
    killHomeProcesses(home);
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
    if (!existsSync(dirname(outside))) throw new Error("tmpdir vanished");
  }
});
