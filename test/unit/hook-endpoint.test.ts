// The HTTP hook endpoint record: created once (0600), kept, never two tokens for one home.
import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { bearerMatches, ensureHookEndpoint, readHookEndpoint, updateHookPort } from "../../src/records/hook-endpoint.js";
import { tempHome } from "../helpers/daemon.js";

const dir = tempHome("cpwd-hook-endpoint-");
after(() => rmSync(dir, { recursive: true, force: true }));

test("the record is created once, 0600, and later calls keep its token and port", () => {
  const file = join(dir, "a", "hook-http.json");
  const first = ensureHookEndpoint(file, 4100);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(first.token, /^[0-9a-f]{64}$/);
  assert.deepEqual(ensureHookEndpoint(file, 4200), first);
  const moved = updateHookPort(file, first, 4300);
  assert.deepEqual(readHookEndpoint(file), { port: 4300, token: first.token });
  assert.equal(moved.token, first.token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test("a malformed record is replaced; an absent or bad one reads as null", () => {
  const file = join(dir, "bad.json");
  assert.equal(readHookEndpoint(file), null);
  for (const text of ["{", "[]", '{"port":0,"token":"' + "a".repeat(64) + '"}', '{"port":80,"token":"short"}']) {
    writeFileSync(file, text);
    assert.equal(readHookEndpoint(file), null, text);
  }
  const made = ensureHookEndpoint(file, 5000);
  assert.equal(made.port, 5000);
  assert.equal(JSON.parse(readFileSync(file, "utf8")).token, made.token);
});

test("only `Bearer <token>` matches", () => {
  const t = "ab".repeat(32);
  assert.equal(bearerMatches(`Bearer ${t}`, t), true);
  for (const h of [undefined, "", t, `bearer ${t}`, `Bearer ${t} `, `Bearer ${t}x`, `Basic ${t}`, "Bearer "]) assert.equal(bearerMatches(h, t), false, String(h));
});
