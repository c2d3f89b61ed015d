// With the daemon down, the commands that read the record on disk (status, claims, logs, diff)
// read all of it — the newest whole snapshot, the segments after it, events.jsonl — so a worker
// whose every event was rotated into a segment is still found, and the table is the one the
// daemon had even when the segments before the snapshot are gone.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, cpwd, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { liveWorker } from "../helpers/fixtures.js";

const pre = (file: string) => ({ hook_event_name: "PreToolUse", session_id: "s-keeper", cwd: "/repo", tool_name: "Write", tool_input: { file_path: file, content: "x" } });

type Row = { id: string; name: string | null; state: string; exitCode: number | null };
const rows = (workers: Row[]) => workers.map((w) => ({ id: w.id, name: w.name, state: w.state, exitCode: w.exitCode }));

test("with the daemon down, a worker whose events are all in a rotated segment is found by logs, status and diff, and status and claims start from the newest snapshot", async () => {
  const home = tempHome();
  writeFileSync(pathsFor(home).config, JSON.stringify({ eventLogMaxBytes: 4096 }));
  const segments = join(home, "segments");
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon(home);
    const c = await d.client();
    const { worker } = await c.call("worker.spawn", { argv: ["sh", "-c", "echo said-by-early; exit 3"], name: "early", cwd: "/", env: { PATH: process.env.PATH ?? "" } });
    const early = String(worker.id);
    await waitFor("early to fail", async () => (await c.call("worker.get", { target: early })).workers[0]?.state === "failed");
    const keeper = await liveWorker(c, "keeper");
    await c.call("hook.handle", { event: pre("/repo/held.ts"), workerId: keeper });
    for (let i = 0; i < 120; i++) await c.call("events.append", { type: "ext.fill", payload: { i, pad: "x".repeat(120) } });
    await waitFor("rotation to settle", () => {
      const names = readdirSync(segments);
      return names.some((n) => n.startsWith("snapshot-")) && !names.some((n) => n.endsWith(".tmp") || n.endsWith(".jsonl"));
    });
    const online = { workers: rows((await c.call("status")).workers as Row[]), claims: (await c.call("claims.list")).claims };
    c.close();
    await d.stop();
    d = undefined;
    assert.ok(!readFileSync(pathsFor(home).events, "utf8").includes(`"worker":"${early}"`), "early's events are all in segments");

    const logs = cpwd(home, ["logs", early]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /said-by-early/);
    const described = cpwd(home, ["status", early]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /early/);
    assert.match(described.stdout, /failed/);
    // diff resolves the worker from the record too: it is found, and has no worktree.
    const diff = cpwd(home, ["diff", "early"]);
    assert.match(diff.stderr, /W1 has no worktree of its own/);

    const tableBefore = JSON.parse(cpwd(home, ["status", "--json"]).stdout) as { workers: Row[] };
    assert.deepEqual(rows(tableBefore.workers), online.workers);

    // Only the newest snapshot and what follows it are read: remove every segment it covers.
    const names = readdirSync(segments);
    const newest = Math.max(...names.filter((n) => n.startsWith("snapshot-")).map((n) => Number(/(\d+)/.exec(n)![1])));
    for (const n of names.filter((x) => x.endsWith(".gz") && Number(/-(\d+)\.jsonl/.exec(x)![1]) <= newest)) rmSync(join(segments, n));
    const table = JSON.parse(cpwd(home, ["status", "--json"]).stdout) as { workers: Row[] };
    assert.deepEqual(rows(table.workers), online.workers, "the same table from the snapshot");
    const claims = JSON.parse(cpwd(home, ["claims", "--json"]).stdout) as Array<{ path: string; worker: string }>;
    assert.deepEqual(claims.map((x) => [x.path, x.worker]), (online.claims as Array<{ path: string; worker: string }>).map((x) => [x.path, x.worker]));
    const stillLogs = cpwd(home, ["logs", "early"]);
    assert.equal(stillLogs.code, 0, stillLogs.stderr);
    assert.match(stillLogs.stdout, /said-by-early/);
  } finally {
    await cleanup(d, home);
  }
});
