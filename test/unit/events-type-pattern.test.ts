// `cpwd events --type`: exact and `prefix.` as the daemon reads them, globs tested by the CLI with
// the longest dotted prefix left to the daemon.
import assert from "node:assert/strict";
import { test } from "node:test";
import { typePattern } from "../../cli/commands/events.js";

test("exact, prefix and glob types: what the daemon filters, and what the CLI takes", () => {
  const cases: Array<[arg: string | undefined, server: string | undefined, takes: string[], refuses: string[]]> = [
    ["worker.exited", "worker.exited", ["worker.exited"], ["worker.exited.x", "worker.started"]],
    ["worker.", "worker.", ["worker.started"], ["workers.x"]],
    ["worker.*", "worker.", ["worker.started"], ["daemon.started"]],
    ["hook.Pre*Use", "hook.", ["hook.PreToolUse"], ["hook.PostToolUse"]],
    ["*.exited", undefined, ["worker.exited"], ["worker.exitedx"]],
    ["claim*", undefined, ["claim.acquired", "claims.x"], ["hook.x"]],
    ["a+b(c)*", undefined, ["a+b(c).x"], ["aab(c).x"]],
    ["*", undefined, ["anything"], []],
    [undefined, undefined, ["anything"], []],
  ];
  for (const [arg, server, takes, refuses] of cases) {
    const p = typePattern(arg);
    assert.equal(p.server, server, String(arg));
    for (const t of takes) assert.ok(p.test(t), `${String(arg)} takes ${t}`);
    for (const t of refuses) assert.ok(!p.test(t), `${String(arg)} refuses ${t}`);
  }
});
