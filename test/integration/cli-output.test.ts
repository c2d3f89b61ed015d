// The CLI's output edges: the table width from COLUMNS when stdout is a pipe, and a reader that
// goes away early (`cpwd replay | head -1`) ending the command quietly instead of with a stack.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { CLI, cpwd, testEnv, waitFor, withDaemon, withHome } from "../helpers/daemon.js";

test("status and replay fit the table to COLUMNS when stdout is not a terminal", () => withDaemon(async (d, c) => {
  const { worker } = await c.call("worker.spawn", { argv: ["/bin/sh", "-c", `exit 0 # ${"x".repeat(200)}`], cwd: "/", env: { PATH: process.env.PATH ?? "" } } as never);
  await waitFor("the worker to exit", async () => (await c.call("worker.get", { target: String(worker.id) })).workers[0]?.state === "exited");
  const widest = (text: string) => Math.max(...text.split("\n").filter((l) => l.startsWith("W1 ")).map((l) => l.length));
  for (const cmd of [["status"], ["replay"]]) {
    assert.ok(widest(cpwd(d.home, cmd, { COLUMNS: "60" }).stdout) <= 60, `${cmd[0]} with COLUMNS=60`);
    const wide = widest(cpwd(d.home, cmd, { COLUMNS: "200" }).stdout);
    assert.ok(wide > 120 && wide <= 200, `${cmd[0]} with COLUMNS=200 (${wide})`);
    assert.ok(widest(cpwd(d.home, cmd, { COLUMNS: "nope" }).stdout) <= 120, `${cmd[0]}: a bad COLUMNS falls back to 120`);
  }
}));

test("a reader that closes early (replay | head -1) ends the CLI quietly, exit 0, no stack trace", () => withHome(async (home) => {
  const child = spawn(process.execPath, [CLI, "replay"], { env: testEnv(home), stdio: ["ignore", "pipe", "pipe"] });
  // Closed before the CLI writes anything: its first write meets EPIPE.
  child.stdout.destroy();
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const code = await new Promise((r) => child.once("exit", r));
  assert.equal(err, "");
  assert.equal(code, 0);
}));
