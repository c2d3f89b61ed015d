// One bad payload must never stop the record or the start: a record nested thousands deep, in the
// fallback log or in an RPC, is refused or quarantined, and everything after it is recorded.
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { cleanup, pathsFor, startDaemon, tempHome, withDaemon, type TestDaemon } from "../helpers/daemon.js";

/** `depth` nested arrays: about 2 bytes a level, so 5,000 levels are ~10 KB. */
const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

function readLog(file: string) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { seq: number; type: string; payload: Record<string, unknown> });
}

test("a daemon starts over a fallback record nested 5,000 deep, quarantines it and ingests the rest", async () => {
  const home = tempHome();
  const paths = pathsFor(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  appendFallback(paths.fallback, { type: "hook.Stop", session: "s1", payload: { n: 1 } });
  const deep = `{"fid":"deep","type":"hook.PreToolUse","payload":{"tool_input":${deepArray(5_000)}}}`;
  appendFileSync(paths.fallback, `${deep}\n`);
  appendFallback(paths.fallback, { type: "hook.Stop", session: "s1", payload: { n: 2 } });
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon(home);
    const events = readLog(paths.events);
    const fromFallback = events.filter((e) => e.type === "hook.Stop" || e.type === "fallback.rejected");
    assert.deepEqual(
      fromFallback.map((e) => e.type),
      ["hook.Stop", "fallback.rejected", "hook.Stop"],
    );
    assert.equal(fromFallback[1]!.payload.quarantined, true);
    assert.ok(readFileSync(paths.quarantine, "utf8").includes(deep), "the record is kept whole in quarantine");
    // And the next start is no different: the record was taken in once, and the daemon starts.
    await d.stop();
    d = await startDaemon(home);
    assert.equal(readLog(paths.events).filter((e) => e.type === "fallback.rejected").length, 1);
  } finally {
    await cleanup(d, home);
  }
});

// Sent as text on a raw connection: a client's own JSON.stringify cannot serialise such a value either.
test("an RPC whose params nest 5,000 deep gets INVALID_PARAMS, and the record goes on", () => withDaemon({ raw: true }, async (d, c, raw) => {
  const deep = `{"x":${deepArray(5_000)}}`;
  const requests = [
    `{"jsonrpc":"2.0","id":1,"method":"events.append","params":{"type":"ext.deep","payload":${deep}}}`,
    `{"jsonrpc":"2.0","id":2,"method":"hook.handle","params":{"event":{"hook_event_name":"PostToolUse","session_id":"s","tool_input":${deep}}}}`,
  ];
  for (const line of requests) {
    raw.send(`${line}\n`);
    const reply = (await raw.next()) as { id: number; error?: { code: number; message: string; data?: { code?: string } } };
    assert.equal(reply.error?.code, -32602, JSON.stringify(reply).slice(0, 300));
    assert.equal(reply.error?.data?.code, "INVALID_PARAMS");
    assert.match(reply.error!.message, /nested too deeply/);
  }
  // Nothing is wedged: durable requests are answered and written.
  const { seq } = await c.call("events.append", { type: "ext.after", payload: { ok: true } });
  const reply = await c.call("hook.handle", { event: { hook_event_name: "Stop", session_id: "s" } });
  assert.ok(reply);
  assert.ok(readLog(d.paths.events).some((e) => e.seq === seq && e.type === "ext.after"));
}));
