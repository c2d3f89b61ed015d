// A settings file nested 100,000 levels deep (found by the hostile-clients chaos scenario): JSON.parse
// took it, and writing it back overflowed the stack, so `cpwd hooks install` said only "Maximum
// call stack size exceeded". It is refused by name, as a file that is not JSON is.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSettings } from "../../cli/hooks-install/install.js";

test("a settings file nested deeper than 1,000 levels is refused, naming the file", () => {
  const deep = (d: number) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;
  assert.throws(() => parseSettings(deep(100_000), "/p/.claude/settings.json"), /\/p\/\.claude\/settings\.json is nested more than 1000 levels deep; left untouched/);
  assert.deepEqual(Object.keys(parseSettings(deep(100), "f")), ["a"], "a deep but reasonable file is read");
});
