// The writer keeps secret values out of events.jsonl (src/eventlog/append.ts): a batch is looked
// through as a whole, and only the lines that hold a secret are rewritten; the others stay the
// writer's own bytes, the seq index still points at each line, and callers get their records as
// they handed them in.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EventLog } from "../../src/eventlog/append.js";
import { serializeEvent } from "../../src/eventlog/record.js";
import { SeqIndex } from "../../src/eventlog/seq-index.js";
import { REDACTED, SecretMask } from "../../src/protocol/secret-mask.js";

const dir = mkdtempSync(join(tmpdir(), "cpwd-log-redact-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("only the lines holding a secret are rewritten, in one batch with clean and multi-byte lines", async () => {
  const secret = "tok-3f9a1c77e2";
  const mask = new SecretMask(["*_TOKEN"]);
  mask.addEnv({ DEPLOY_TOKEN: secret });
  const file = join(dir, "events.jsonl");
  const index = new SeqIndex(1);
  const log = await EventLog.open(file, { lastSeq: 0, eventCount: 0, sizeBytes: 0, index }, { mask });
  const batch = (payloads: Array<Record<string, unknown>>) => Promise.all(payloads.map((payload) => log.append([{ type: "ext.t", payload }])));
  // A batch with multi-byte text, then one all ASCII (its offsets are measured from its lines).
  const first = await batch([{ a: 1 }, { argv: ["--token", secret] }, { t: "é日本" }, { [`k-${secret}`]: "x" }, { b: "plain" }]);
  const second = await batch([{ c: 1 }, { s: `x${secret}y` }, { d: 2 }]);
  const recs = [...first, ...second].map((r) => r[0]!);
  assert.equal(log.stats().commits, 2, "two batches");
  assert.deepEqual(recs[1]!.payload, { argv: ["--token", secret] }, "the caller's record keeps its value");
  await log.close();
  const bytes = readFileSync(file);
  const text = bytes.toString("utf8");
  assert.ok(!text.includes(secret));
  const lines = text.trimEnd().split("\n");
  assert.deepEqual(JSON.parse(lines[1]!).payload, { argv: ["--token", REDACTED] });
  assert.deepEqual(Object.keys(JSON.parse(lines[3]!).payload), [`k-${REDACTED}`]);
  assert.deepEqual(JSON.parse(lines[6]!).payload, { s: `x${REDACTED}y` });
  for (const i of [0, 2, 4, 5, 7]) assert.equal(`${lines[i]}\n`, serializeEvent(recs[i]!), `line ${i + 1} is the writer's own`);
  for (let seq = 1; seq <= recs.length; seq++) {
    const at = index.offsetFor(seq);
    assert.equal(JSON.parse(bytes.subarray(at, bytes.indexOf(10, at)).toString("utf8")).seq, seq, `seq ${seq} at byte ${at}`);
  }
  assert.equal(log.stats().sizeBytes, bytes.length);
});
