// What `cpwd claude` hands Claude Code: the options after `--` as they are, except those cpwd
// controls, and always an explicit permission mode (flag, else config, else acceptEdits).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claudePassThrough, permissionModeFor } from "../../cli/claude-args.js";
import { isUsageError } from "../../cli/args.js";
import { defaultConfig } from "../../src/platform/config.js";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isUsageError(err), "a usage error");
    return (err as Error).message;
  }
  assert.fail("not refused");
}

describe("options after --", () => {
  test("reach Claude Code verbatim, values included, even ones that look like options", () => {
    const rest = ["--allowedTools", "Write", "Bash(npm test:*)", "--append-system-prompt", "-p is fine inside a value", "--add-dir=../lib", "--effort", "high"];
    assert.deepEqual(claudePassThrough(rest), rest);
  });

  test("the flags cpwd controls are refused, each naming the cpwd option that does its job", () => {
    assert.match(refusal(() => claudePassThrough(["-p", "hi"])), /^-p after -- is cpwd's to set: .*cpwd claude \[options\] "PROMPT"/);
    assert.match(refusal(() => claudePassThrough(["--print"])), /^--print after -- /);
    assert.match(refusal(() => claudePassThrough(["--output-format=json"])), /^--output-format after -- .*cpwd logs W3 --raw/);
    assert.match(refusal(() => claudePassThrough(["--verbose"])), /^--verbose after -- .*cpwd always passes it/);
    assert.match(refusal(() => claudePassThrough(["--session-id", "x"])), /^--session-id after -- .*cpwd claude --resume W3/);
    assert.match(refusal(() => claudePassThrough(["--resume", "abc"])), /^--resume after -- .*cpwd claude --resume W3 "PROMPT"/);
    assert.match(refusal(() => claudePassThrough(["-c"])), /cpwd claude --resume W3/);
    assert.match(refusal(() => claudePassThrough(["--permission-mode", "plan"])), /cpwd claude --permission-mode M \(or claudePermissionMode in config.json\)/);
    assert.match(refusal(() => claudePassThrough(["--dangerously-skip-permissions"])), /--permission-mode bypassPermissions/);
  });
});

describe("the permission mode in force", () => {
  const configured = defaultConfig().claudePermissionMode;

  test("is acceptEdits when neither the flag nor config.json says", () => {
    assert.equal(configured, "acceptEdits");
    assert.equal(permissionModeFor(undefined, configured, {}, 1000), "acceptEdits");
  });

  test("config.json's claudePermissionMode, else the flag, which wins", () => {
    assert.equal(permissionModeFor(undefined, "dontAsk", {}, 1000), "dontAsk");
    assert.equal(permissionModeFor("plan", "dontAsk", {}, 1000), "plan");
  });

  test("an unknown mode is refused with the list", () => {
    assert.match(refusal(() => permissionModeFor("yolo", configured, {}, 1000)), /must be one of acceptEdits, auto, bypassPermissions, default, dontAsk, manual, plan \(got yolo\)/);
  });

  test("bypassPermissions as root is refused up front unless IS_SANDBOX=1 says it is a sandbox, as Claude Code does", () => {
    assert.match(refusal(() => permissionModeFor("bypassPermissions", configured, {}, 0)), /refuses bypassPermissions when run as root.*--env IS_SANDBOX=1/);
    assert.equal(permissionModeFor("bypassPermissions", configured, { IS_SANDBOX: "1" }, 0), "bypassPermissions");
    assert.equal(permissionModeFor("bypassPermissions", configured, {}, 1000), "bypassPermissions");
  });
});
