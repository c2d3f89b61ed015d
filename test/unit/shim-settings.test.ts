// The shim's zod-free reading of config.json stays in step with ConfigSchema: every field it reads
// is a field of the schema with the same type and default, it takes exactly the values the schema
// accepts, and a field added to the schema must be declared here as read by the shim or not.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { readShimSettings, SHIM_CONFIG_FIELDS, SHIM_DEFAULTS, type ShimSettings } from "../../hooks/shim-settings.js";
import { ConfigSchema, defaultConfig, type Config } from "../../src/platform/config.js";
import { tempHome } from "../helpers/daemon.js";

/** The config fields only the daemon and the CLI read. A new field goes here or into SHIM_CONFIG_FIELDS. */
const NOT_READ_BY_THE_SHIM = [
  "maxMessageBytes",
  "maxParallel",
  "logMaxBytes",
  "logFiles",
  "outputMux",
  "eventLogMaxBytes",
  "eventSegmentsKept",
  "defaultGraceMs",
  "shutdownTimeoutMs",
  "claimTtlMs",
  "digestRecentMs",
  "claudeBin",
  "claudePermissionMode",
  "claudeDailyBudgetUsd",
  "hookHttpPort",
  // The shim's fallback records are redacted when the daemon takes them into the record.
  "secretEnvNames",
];

// Each setting has the type of the config field it comes from, both ways (checked by tsc).
type FromConfig = { [K in keyof ShimSettings]: Config[(typeof SHIM_CONFIG_FIELDS)[K]] };
const sameTypes: [ShimSettings, FromConfig] extends [FromConfig, ShimSettings] ? true : false = true;

const settings = Object.keys(SHIM_CONFIG_FIELDS) as Array<keyof ShimSettings>;
const dir = tempHome("cpwd-shim-settings-");
after(() => rmSync(dir, { recursive: true, force: true }));

function shimReads(config: unknown): ShimSettings {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  return readShimSettings(file, {});
}

test("every config field is either read by the shim or declared as not read by it", () => {
  assert.ok(sameTypes);
  const shimFields = Object.values(SHIM_CONFIG_FIELDS);
  assert.deepEqual([...shimFields, ...NOT_READ_BY_THE_SHIM].sort(), Object.keys(ConfigSchema.shape).sort());
});

test("without config.json the shim's settings are the schema's defaults", () => {
  assert.deepEqual(readShimSettings(join(dir, "absent.json"), {}), SHIM_DEFAULTS);
  for (const s of settings) assert.equal(SHIM_DEFAULTS[s], defaultConfig()[SHIM_CONFIG_FIELDS[s]], s);
});

test("the shim takes a field's value exactly when the schema accepts it, and its default otherwise", () => {
  const probes: unknown[] = [true, false, 0, 1, 49, 50, 51, 999.5, 1000, 2500, 29_999, 30_000, 30_001, -1, "1000", "true", null, [], {}];
  for (const s of settings) {
    const field = SHIM_CONFIG_FIELDS[s];
    for (const value of probes) {
      const accepted = ConfigSchema.shape[field].safeParse(value).success;
      assert.deepEqual(shimReads({ [field]: value })[s], accepted ? value : SHIM_DEFAULTS[s], `${field}: ${JSON.stringify(value)}`);
    }
  }
});

test("a config.json that is not an object, or not JSON, leaves the defaults", () => {
  for (const text of ["[1]", "null", "7", "{\"hookBudgetMs\": 20", ""]) {
    const file = join(dir, "config.json");
    writeFileSync(file, text);
    assert.deepEqual(readShimSettings(file, {}), SHIM_DEFAULTS, text);
  }
});

test("the environment overrides config.json, within the budget's bounds", () => {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ hookBudgetMs: 2000, hookFailClosed: false, autostart: true }));
  const env = { CPWD_HOOK_BUDGET_MS: "60000", CPWD_HOOK_FAIL_CLOSED: "1", CPWD_AUTOSTART: "0" };
  assert.deepEqual(readShimSettings(file, env), { budgetMs: 30_000, failClosed: true, autostart: false });
});
