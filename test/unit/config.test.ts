// Configuration: defaults when there is no file, and errors that name the file and the field.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultConfig, loadConfig } from "../../src/platform/config.js";
import { CpwdError } from "../../src/protocol/errors.js";

test("config: absent means defaults; invalid JSON or a bad field is an error naming the file and field", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-cfg-"));
  try {
    const file = join(dir, "config.json");
    assert.deepEqual(loadConfig(file), defaultConfig());
    assert.equal(defaultConfig().maxParallel, 4);
    writeFileSync(file, '{"maxParallel": 2}');
    assert.equal(loadConfig(file).maxParallel, 2);
    writeFileSync(file, "{oops");
    assert.throws(() => loadConfig(file), (e: unknown) => e instanceof CpwdError && e.code === "INVALID_CONFIG" && /not valid JSON/.test(e.message));
    writeFileSync(file, '{"maxParallel": "many"}');
    assert.throws(() => loadConfig(file), /maxParallel/);
    writeFileSync(file, '{"maxParalel": 3}');
    assert.throws(() => loadConfig(file), /maxParalel|Unrecognized/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
