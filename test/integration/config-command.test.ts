// `cpwd config get|set|unset`: config.json read with its defaults and edited through its schema.
// A change is validated with the whole file before it is written; a file that cannot be parsed is
// reported with its position and never written over; the daemon takes a change at its next start.
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { defaultConfig } from "../../src/platform/config.js";
import { cleanup, cpwd, pathsFor, startDaemon, tempHome, waitFor, withHome } from "../helpers/daemon.js";

const RESTART_NOTE = "the daemon reads config.json when it starts: `cpwd stop && cpwd start` applies it\n";

test("config get prints the effective config, defaults included, or one key (a string bare, the rest as JSON)", async () => {
  await withHome((home) => {
    const all = cpwd(home, ["config", "get"]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(JSON.parse(all.stdout), defaultConfig());
    writeFileSync(pathsFor(home).config, '{"maxParallel": 2}');
    assert.equal(JSON.parse(cpwd(home, ["config", "get"]).stdout).maxParallel, 2);
    assert.deepEqual(cpwd(home, ["config", "get", "maxParallel"]), { code: 0, stdout: "2\n", stderr: "" });
    assert.equal(cpwd(home, ["config", "get", "claudeBin"]).stdout, "claude\n");
    assert.equal(cpwd(home, ["config", "get", "claudeDailyBudgetUsd"]).stdout, "null\n");
  });
});

test("config set parses VALUE as JSON when it can, else as a string, keeps the other keys, and writes a private file", async () => {
  await withHome((home) => {
    const file = pathsFor(home).config;
    const set = cpwd(home, ["config", "set", "maxParallel", "8"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, `maxParallel: 4 → 8\n${RESTART_NOTE}`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const bin = cpwd(home, ["config", "set", "claudeBin", "/opt/claude/bin/claude"]);
    assert.equal(bin.stdout, "claudeBin: claude → /opt/claude/bin/claude\n`cpwd claude` reads it each time it starts a worker: it applies now\n");
    assert.match(cpwd(home, ["config", "set", "hookFailClosed", "true"]).stdout, /the hook shim reads it at each call: it applies now/);
    assert.equal(cpwd(home, ["config", "set", "claudeDailyBudgetUsd", "2.5"]).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { maxParallel: 8, claudeBin: "/opt/claude/bin/claude", hookFailClosed: true, claudeDailyBudgetUsd: 2.5 });
    assert.equal(cpwd(home, ["config", "set", "claudeDailyBudgetUsd", "null"]).code, 0);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).claudeDailyBudgetUsd, null);

    const unset = cpwd(home, ["config", "unset", "maxParallel"]);
    assert.equal(unset.stdout, `maxParallel: 8 → 4 (the default)\n${RESTART_NOTE}`);
    assert.equal("maxParallel" in JSON.parse(readFileSync(file, "utf8")), false);
  });
});

test("a value the schema refuses is named with its field and nothing is written; an unknown key is a usage error", async () => {
  await withHome((home) => {
    const file = pathsFor(home).config;
    const none = cpwd(home, ["config", "set", "maxParallel", "0"]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `${file}: maxParallel: must be ≥ 1 (got 0)\n${file} was not written\n`);
    assert.throws(() => statSync(file), /ENOENT/);

    writeFileSync(file, '{ "logFiles": 5 }\n');
    const wrongType = cpwd(home, ["config", "set", "hookFailClosed", "yes"]);
    assert.equal(wrongType.code, 1);
    assert.equal(wrongType.stderr, `${file}: hookFailClosed: expected true or false, got "yes"\n${file} is unchanged\n`);
    const badMode = cpwd(home, ["config", "set", "claudePermissionMode", "whatever"]);
    assert.match(badMode.stderr, /claudePermissionMode: expected one of acceptEdits\|.*\(got "whatever"\)/);
    assert.equal(readFileSync(file, "utf8"), '{ "logFiles": 5 }\n', "the file is as it was, to the byte");

    const typo = cpwd(home, ["config", "set", "maxParalel", "3"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^cpwd config: unknown key 'maxParalel'; the keys: maxMessageBytes, maxParallel, .*\nusage: cpwd config get \[KEY\]/);
    assert.equal(cpwd(home, ["config", "set", "maxParallel"]).code, 2);
    assert.equal(cpwd(home, ["config", "frobnicate"]).code, 2);
    assert.equal(cpwd(home, ["config"]).code, 2);
  });
});

test("a config.json that cannot be parsed is reported with its line and column, and never written over", async () => {
  await withHome((home) => {
    const file = pathsFor(home).config;
    const broken = '{\n  "maxParallel": 2,\n  "logFiles": 3,,\n}\n';
    writeFileSync(file, broken);
    for (const args of [["config", "set", "maxParallel", "3"], ["config", "unset", "logFiles"], ["config", "get"]]) {
      const r = cpwd(home, args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:17: not valid JSON: .*; fix it by hand \\(cpwd does not write over a file it cannot parse\\)\\n$`));
    }
    assert.equal(readFileSync(file, "utf8"), broken);
    writeFileSync(file, "[1, 2]\n");
    const notObject = cpwd(home, ["config", "set", "maxParallel", "3"]);
    assert.equal(notObject.code, 1);
    assert.match(notObject.stderr, /expected an object/);
    assert.equal(readFileSync(file, "utf8"), "[1, 2]\n");
  });
});

test("the daemon takes a change at its next start: maxParallel 1 holds a second worker queued", async () => {
  const home = tempHome();
  let d;
  try {
    assert.equal(cpwd(home, ["config", "set", "maxParallel", "1"]).code, 0);
    d = await startDaemon(home);
    const c = await d.client();
    try {
      for (const name of ["first", "second"]) assert.equal(cpwd(home, ["spawn", "--name", name, "--", "sleep", "300"]).code, 0);
      await waitFor("first to run", async () => (await c.call("worker.get", { target: "first" })).workers[0]?.state === "running");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await c.call("worker.get", { target: "second" })).workers[0]?.state, "queued");
    } finally {
      c.close();
    }
  } finally {
    await cleanup(d, home);
  }
});
