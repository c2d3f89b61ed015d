// The fallback log: concurrent writers never tear lines; ingestion is exactly-once across crashes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { fileURLToPath } from "node:url";
import { appendFallback } from "../../src/eventlog/fallback.js";
import { ingestFallback, readOffset } from "../../src/eventlog/ingest.js";
import type { EventInput } from "../../src/protocol/events.js";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "cpwd-fb-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("16 processes appending at once leave only whole lines", async () => {
  const file = join(dir, "fb.jsonl");
  const module = fileURLToPath(new URL("../../src/eventlog/fallback.ts", import.meta.url));
  const script = `import { appendFallback } from ${JSON.stringify(module)};
    for (let i = 0; i < 200; i++) appendFallback(process.argv[1], { type: "hook.PreToolUse", payload: { w: process.pid, i, pad: "z".repeat(3000) } });`;
  const procs = Array.from({ length: 16 }, () =>
    spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, file], { stdio: "inherit" }),
  );
  await Promise.all(procs.map((p) => new Promise((r) => p.once("exit", r))));
  const lines = readFileSync(file, "utf8").trim().split("\n");
  assert.equal(lines.length, 16 * 200);
  const ids = new Set(lines.map((l) => JSON.parse(l).fid));
  assert.equal(ids.size, lines.length);
});

test("ingest takes each record once, even when the offset was lost after a crash", async () => {
  const file = join(dir, "fb.jsonl");
  const offsetFile = `${file}.offset`;
  for (let i = 0; i < 5; i++) appendFallback(file, { type: "hook.Stop", session: "s1", payload: { i } });
  const written: EventInput[] = [];
  const append = async (inputs: EventInput[]) => void written.push(...inputs);
  const seen = new Set<string>();
  const first = await ingestFallback(file, offsetFile, join(dir, "q.jsonl"), seen, append);
  assert.equal(first.count, 5);
  assert.ok(written.every((e) => e.source === "fallback" && typeof e.payload.fallbackId === "string"));
  // Crash between "events durable" and "offset saved": the offset file is gone.
  rmSync(offsetFile);
  appendFallback(file, { type: "hook.Stop", payload: { i: 5 } });
  const second = await ingestFallback(file, offsetFile, join(dir, "q.jsonl"), seen, append);
  assert.equal(second.count, 1);
  assert.equal(second.skippedDuplicates, 5);
  assert.equal(written.length, 6);
  assert.equal(readOffset(offsetFile), readFileSync(file).length);
});

test("a half-written last line waits for the next ingest; garbage lines are counted, not fatal", async () => {
  const file = join(dir, "fb.jsonl");
  appendFallback(file, { type: "hook.Stop", payload: {} });
  writeFileSync(file, readFileSync(file, "utf8") + "not json\n" + '{"fid":"x","type":"hook.Stop","pay', { flag: "w" });
  const written: EventInput[] = [];
  const r = await ingestFallback(file, `${file}.offset`, join(dir, "q.jsonl"), new Set(), async (i) => void written.push(...i));
  assert.equal(r.count, 1);
  assert.equal(r.badLines, 1);
  assert.ok(r.offsetBytes < readFileSync(file).length, "the partial line is left for later");
});

test("a failed append leaves the offset where it was, so nothing is lost", async () => {
  const file = join(dir, "fb.jsonl");
  appendFallback(file, { type: "hook.Stop", payload: {} });
  const seen = new Set<string>();
  await assert.rejects(ingestFallback(file, `${file}.offset`, join(dir, "q.jsonl"), seen, async () => Promise.reject(new Error("disk full"))));
  assert.equal(readOffset(`${file}.offset`), 0);
  const written: EventInput[] = [];
  const r = await ingestFallback(file, `${file}.offset`, join(dir, "q.jsonl"), seen, async (i) => void written.push(...i));
  assert.equal(r.count, 1);
});

test("a record nested 5,000 deep is set aside in quarantine, recorded as such, and the rest go in", async () => {
  const file = join(dir, "fb.jsonl");
  const quarantine = join(dir, "q.jsonl");
  appendFallback(file, { type: "hook.Stop", payload: { n: 1 } });
  const deep = `{"fid":"deep-1","type":"hook.PreToolUse","payload":{"x":${"[".repeat(5_000)}${"]".repeat(5_000)}}}`;
  appendFileSync(file, `${deep}\n`);
  appendFallback(file, { type: "hook.Stop", payload: { n: 2 } });
  const written: EventInput[] = [];
  const r = await ingestFallback(file, `${file}.offset`, quarantine, new Set(), async (i) => void written.push(...i));
  assert.equal(r.count, 3);
  assert.equal(r.quarantined, 1);
  assert.deepEqual(
    written.map((w) => w.type),
    ["hook.Stop", "fallback.rejected", "hook.Stop"],
  );
  assert.equal(written[1]!.payload.quarantined, true);
  assert.equal(written[1]!.payload.fallbackId, "deep-1");
  assert.equal(written[1]!.payload.originalType, "hook.PreToolUse");
  assert.equal(readFileSync(quarantine, "utf8"), `${deep}\n`, "the line is kept whole");
  // Every event can be written: none of them is deep any more.
  for (const w of written) assert.doesNotThrow(() => JSON.stringify(w));
});
