// `cpwd claude` takes its binary from config.json the way the daemon reads the file: through the
// schema, so a bad value is reported (naming the field) rather than silently replaced.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { cpwd, pathsFor, tempHome } from "../helpers/daemon.js";

function homeWithConfig(config: unknown): string {
  const home = tempHome("cpwd-claude-config-");
  mkdirSync(home, { recursive: true });
  writeFileSync(pathsFor(home).config, JSON.stringify(config));
  return home;
}

test("without CPWD_CLAUDE_BIN, config.json's claudeBin names the binary", () => {
  const home = homeWithConfig({ claudeBin: "/nonexistent/claude-from-config" });
  try {
    const r = cpwd(home, ["claude", "hello"], { CPWD_CLAUDE_BIN: "" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cpwd claude: \/nonexistent\/claude-from-config not found;/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("an invalid config.json is reported with its field, not taken for the default and not as a usage error", () => {
  const home = homeWithConfig({ claudeBin: 7 });
  try {
    const r = cpwd(home, ["claude", "hello"], { CPWD_CLAUDE_BIN: "" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cpwd claude: .*config\.json: claudeBin: /);
    assert.doesNotMatch(r.stderr, /usage:/i);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
