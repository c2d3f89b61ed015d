// `cpwd status` (plain and --json) and Claude Code's background sessions: `claude agents --json`
// takes about half a second, so a reading saved in the last few seconds is used again, by either
// form, and one older than that is taken anew. A fake claude counts how often it is run.
import assert from "node:assert/strict";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CLAUDE_AGENTS_REUSE_MS } from "../../cli/background-sessions.js";
import { cpwd, withDaemon } from "../helpers/daemon.js";

test("status reuses a background-sessions reading of the last few seconds, and reads anew after", () => withDaemon(async (d) => {
  const runs = join(d.home, "claude-runs");
  const bin = join(d.home, "fake-claude");
  writeFileSync(bin, `#!/bin/sh\necho run >> '${runs}'\necho '[{"id":"b1","kind":"background","state":"working"}]'\n`);
  chmodSync(bin, 0o755);
  const env = { CPWD_CLAUDE_BIN: bin };
  const timesRun = () => readFileSync(runs, "utf8").split("\n").filter(Boolean).length;

  const first = JSON.parse(cpwd(d.home, ["status", "--json"], env).stdout);
  assert.equal(first.backgroundSessions.sessions[0].id, "b1");
  assert.equal(statSync(join(d.home, "claude-agents.json")).mode & 0o777, 0o600, "the saved reading is private: it names the user's sessions");
  const second = JSON.parse(cpwd(d.home, ["status", "--json"], env).stdout);
  assert.equal(second.backgroundSessions.sessions[0].id, "b1", "the saved reading is shown");
  assert.equal(typeof second.backgroundSessions.atMs, "number", "with the time it was taken");
  assert.match(cpwd(d.home, ["status"], { ...env, COLUMNS: "200" }).stdout, /background +working +- +b1$/m, "a plain status shows the same reading");
  assert.equal(timesRun(), 1, "claude agents was run once for three calls");

  // A reading older than the reuse window is taken anew.
  const saved = join(d.home, "claude-agents.json");
  const old = JSON.parse(readFileSync(saved, "utf8"));
  writeFileSync(saved, JSON.stringify({ ...old, atMs: Date.now() - CLAUDE_AGENTS_REUSE_MS - 1_000 }));
  cpwd(d.home, ["status"], env);
  assert.equal(timesRun(), 2, "a plain status takes an old reading anew");
}));
