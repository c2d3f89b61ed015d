// A worker's secret-looking environment values (found missing by the security chaos scenario):
// the worker gets them, and they never reach events.jsonl, status, worker views or a digest, even
// when a shell has expanded one into the command or it is the worker's name. The command the
// record shows redacted still runs as spawned after a daemon restart (spec.json keeps it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cleanup, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";

const TOKEN = "tok-3f9a1c77e2";
const PASSWORD = "hunter2hunter2";

test("secret-looking env values are redacted from the record, status and digests; the worker still gets them", async () => {
  let d: TestDaemon | undefined = await startDaemon(tempHome());
  const home = d.home;
  try {
    let c = await d.client();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", DEPLOY_TOKEN: TOKEN, DB_PASSWORD: PASSWORD, PLAIN: "visible-value" };
    // As if the user's shell had expanded "$DEPLOY_TOKEN" into the command.
    const argv = ["/bin/sh", "-c", `echo ${TOKEN} $DB_PASSWORD $PLAIN`];
    const { worker } = await c.call("worker.spawn", { argv, name: TOKEN, cwd: "/", env, meta: { note: `deploys with ${TOKEN}` } });
    const id = String(worker.id);
    const ended = async () => (await c.call("worker.get", { target: id })).workers[0]!.state === "exited";
    await waitFor("the worker to end", ended);
    const stdout = () => readFileSync(join(d!.paths.workers, id, "logs", "stdout.log"), "utf8");
    assert.equal(stdout(), `${TOKEN} ${PASSWORD} visible-value\n`, "the worker got its environment and its command as spawned");

    const digest = await c.call("hook.handle", { event: { hook_event_name: "SessionStart", session_id: "s-secret", source: "startup" } });
    const shown = JSON.stringify([await c.call("status"), await c.call("worker.list"), worker, digest, await c.call("events.read", { fromSeq: 0, limit: 1000 })]);
    assert.ok(shown.includes("[redacted]"));
    assert.ok(shown.includes(id), "the digest and status still name the worker");
    for (const secret of [TOKEN, PASSWORD]) {
      assert.ok(!shown.includes(secret), `${secret} reaches an RPC result`);
      assert.ok(!readFileSync(d.paths.events, "utf8").includes(secret), `${secret} reaches events.jsonl`);
    }

    // After a restart the record's command is redacted; a new run still runs the real one.
    c.close();
    await d.stop();
    d = await startDaemon(home);
    c = await d.client();
    await c.call("worker.restart", { target: id });
    await waitFor("the second run to end", async () => (await ended()) && stdout().split("\n").length === 3);
    assert.equal(stdout(), `${TOKEN} ${PASSWORD} visible-value\n`.repeat(2));
    assert.ok(!readFileSync(d.paths.events, "utf8").includes(TOKEN));
    c.close();
  } finally {
    await cleanup(d, home);
  }
});
