// Secret-looking environment values kept out of what cpwd records and shows: which names count
// (globs, case-insensitive, configurable), what is replaced (strings and keys, at any depth, never
// the caller's object), and what is too short to mask.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_SECRET_CHARS, REDACTED, SecretMask, secretNameMatcher } from "../../src/protocol/secret-mask.js";

test("the default patterns take *_KEY, *_TOKEN, *SECRET* and *PASSWORD*, in any case", () => {
  const m = secretNameMatcher(["*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*"]);
  for (const name of ["ANTHROPIC_API_KEY", "GITHUB_TOKEN", "gh_token", "CLIENT_SECRET_FILE", "SECRET", "DB_PASSWORD", "mypassword"]) assert.ok(m(name), name);
  for (const name of ["PATH", "KEYBOARD", "TOKENS", "HOME", "KEY"]) assert.ok(!m(name), name);
  assert.ok(secretNameMatcher(["*_CRED", "a.b"])("AWS_CRED"));
  assert.ok(!secretNameMatcher(["a.b"])("axb"), "only * is special");
});

test("each secret value is replaced in strings and keys at any depth; the object handed in is left as it was", () => {
  const mask = new SecretMask(["*_TOKEN"]);
  mask.addEnv({ DEPLOY_TOKEN: "tok-3f9a1c77e2", PATH: "/usr/bin", SHORT_TOKEN: "x".repeat(MIN_SECRET_CHARS - 1), UNSET_TOKEN: undefined });
  assert.equal(mask.size, 1, "only the long secret value is learnt");
  const value = { argv: ["deploy", "--token", "tok-3f9a1c77e2"], meta: { note: "a=tok-3f9a1c77e2;b=tok-3f9a1c77e2", "tok-3f9a1c77e2": 1, n: 5, ok: true, none: null }, untouched: { deep: ["plain"] } };
  const before = JSON.stringify(value);
  const out = mask.scrub(value);
  assert.equal(JSON.stringify(value), before, "the original is not modified");
  assert.deepEqual(out, { argv: ["deploy", "--token", REDACTED], meta: { note: `a=${REDACTED};b=${REDACTED}`, [REDACTED]: 1, n: 5, ok: true, none: null }, untouched: { deep: ["plain"] } });
  assert.equal(out.untouched, value.untouched, "what holds no secret is shared, not copied");
  assert.equal(mask.scrub("plain text"), "plain text");
  assert.ok(mask.mayHold(JSON.stringify(value)));
  assert.ok(!mask.mayHold(JSON.stringify(out)));
});

test("a value with characters JSON escapes is found in a serialised line too", () => {
  const mask = new SecretMask();
  mask.addEnv({ DB_PASSWORD: 'p"a\\ss\nword' });
  const line = JSON.stringify({ cmd: 'echo p"a\\ss\nword' });
  assert.ok(mask.mayHold(line));
  assert.equal(JSON.stringify(mask.scrub(JSON.parse(line))), JSON.stringify({ cmd: `echo ${REDACTED}` }));
});
