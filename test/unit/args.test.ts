// Argument parsing for the CLI: flags, repeats, inline values, `--` and clear errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs } from "../../cli/args.js";

test("args: flags, repeats, inline values, -- and clear errors", () => {
  const spec = { name: { kind: "string" as const }, env: { kind: "list" as const }, json: { kind: "bool" as const }, lines: { kind: "string" as const, short: "n" } };
  const p = parseArgs(["--name", "a", "--env", "K=1", "--env=L=2", "-n", "5", "pos", "--json", "--", "cmd", "--name"], spec);
  assert.deepEqual(p.flags, { name: "a", env: ["K=1", "L=2"], lines: "5", json: true });
  assert.deepEqual(p.positionals, ["pos"]);
  assert.deepEqual(p.rest, ["cmd", "--name"]);
  assert.throws(() => parseArgs(["--nope"], spec), /unknown option --nope/);
  assert.throws(() => parseArgs(["--name"], spec), /--name needs a value/);
  assert.throws(() => parseArgs(["--json=1"], spec), /takes no value/);
});
