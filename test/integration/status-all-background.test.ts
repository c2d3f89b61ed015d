// A plain `cpwd status` against a real daemon reads Claude Code's background sessions live
// (`claude agents --json`, run as CPWD_CLAUDE_BIN): a session is a row under Claude Code's own
// heading, and a claude that fails, or is not there, is one note line, never a failed status.
// (`--all`, which alone read them once, is still accepted.)
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cpwd, withDaemon } from "../helpers/daemon.js";

const HEADING = "Claude Code's own (not cpwd workers: Claude Code runs and stops them):";

/** A stand-in for claude in `home`: `agents --json` runs `body` (sh). */
function fakeClaude(home: string, body: string): string {
  const bin = join(home, "fake-claude");
  writeFileSync(bin, `#!/bin/sh\n[ "$1 $2" = "agents --json" ] || exit 64\n${body}\n`, { mode: 0o755 });
  return bin;
}

test("status shows a background session of claude agents --json as a row under Claude Code's own heading", () => withDaemon(async (d) => {
  const session = { id: "bg-4f2a", sessionId: "5e1c9a7b-0d3e-4c2a-9f1b-2a6d8c0e4b71", kind: "background", name: "nightly refactor", cwd: "/srv/repo", state: "working", startedAt: new Date().toISOString() };
  const bin = fakeClaude(d.home, `echo '${JSON.stringify([session])}'`);
  const r = cpwd(d.home, ["status"], { CPWD_CLAUDE_BIN: bin, COLUMNS: "200" });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const heading = lines.indexOf(HEADING);
  assert.ok(heading >= 0, r.stdout);
  assert.match(lines[heading + 1]!, /^ {2}SESSION +KIND +STATE +TIME +WHAT$/);
  assert.match(lines[heading + 2]!, /^ {2}5e1c9a7b +background +working +\S+ +bg-4f2a "nightly refactor" in \/srv\/repo$/);
  assert.doesNotMatch(r.stdout, /not read/);
}));

test("status with a claude that exits 1 says so in one note line and still exits 0", () => withDaemon(async (d) => {
  const bin = fakeClaude(d.home, "echo 'something broke' >&2\nexit 1");
  const r = cpwd(d.home, ["status"], { CPWD_CLAUDE_BIN: bin, COLUMNS: "200" });
  assert.equal(r.code, 0, r.stderr);
  const said = r.stdout.split("\n").filter((l) => l.includes("Claude Code"));
  assert.deepEqual(said, [`Claude Code's background sessions not read: \`${bin} agents --json\` exited 1`], r.stdout);
}));

test("status with no claude on PATH says so in one note line and still exits 0; --all is still accepted", () => withDaemon(async (d) => {
  const r = cpwd(d.home, ["status"], { CPWD_CLAUDE_BIN: "", PATH: "/nonexistent", COLUMNS: "200" });
  assert.equal(r.code, 0, r.stderr);
  const said = r.stdout.split("\n").filter((l) => l.includes("Claude Code"));
  assert.deepEqual(said, ["Claude Code's background sessions not read: claude not found on PATH (CPWD_CLAUDE_BIN or claudeBin names it)"], r.stdout);
  const bin = fakeClaude(d.home, "echo '[]'");
  const all = cpwd(d.home, ["status", "--all"], { CPWD_CLAUDE_BIN: bin, COLUMNS: "200" });
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^cpwd daemon .*: running/);
}));
