// Digests: what a session is told about the workers, and when it is told nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeEnded, DIGEST_MAX_CHARS, DigestBook, type WorkerSummary } from "../../daemon/coordination/digests.js";
import type { EventRecord } from "../../src/protocol/events.js";

let seq = 0;
const ev = (type: string, worker?: string, session?: string, payload: Record<string, unknown> = {}): EventRecord => ({
  v: 1, seq: ++seq, ts: "2026-01-01T00:00:00Z", type, source: "daemon", ...(worker ? { worker } : {}), ...(session ? { session } : {}), payload,
});
const HOUR = 3_600_000;
const now = 10 * HOUR;

test("SessionStart gets an overview: running workers and those that ended within the recent window", () => {
  const book = new DigestBook(HOUR);
  const workers: WorkerSummary[] = [
    { id: "W1", name: "build", state: "running", startedAtMs: now - 65_000, pid: 42 },
    { id: "W2", state: "exited", startedAtMs: now - 600_000, endedAtMs: now - 60_000, exitCode: 0 },
    { id: "W3", state: "failed", startedAtMs: now - 5 * HOUR, endedAtMs: now - 4 * HOUR, exitCode: 1 },
  ];
  const d = book.digest("S", workers, 10, now, true)!;
  assert.match(d.text, /1 worker running or queued, 1 ended recently/);
  assert.match(d.text, /W1 "build" running for 1m 5s \(pid 42\)/);
  assert.match(d.text, /W2 exited 0 after 9m 0s/);
  assert.doesNotMatch(d.text, /W3/);
  assert.equal(d.event.type, "digest.delivered");
  assert.equal(d.event.payload.uptoSeq, 10);
});

test("later digests carry only what ended after the cursor, once; no news means no digest", () => {
  const book = new DigestBook(HOUR);
  book.observe(ev("worker.started", "W1"));
  assert.equal(book.digest("S", [{ id: "W1", state: "running" }], seq, now, true)?.text.includes("W1"), true);
  assert.equal(book.digest("S", [{ id: "W1", state: "running" }], seq, now, false), null);
  book.observe(ev("worker.exited", "W1"));
  const w: WorkerSummary = { id: "W1", name: "t", state: "failed", exitCode: 2, startedAtMs: now - 2_000, endedAtMs: now, claude: { costUsd: 0.01234, turns: 3, result: "Broke it.\nsorry" } };
  const d = book.digest("S", [w], seq, now, false)!;
  assert.match(d.text, /1 worker finished since you last heard:\n- W1 "t" failed \(exit 2\) after 2s \(\$0\.0123, 3 turns\): Broke it\. \/ sorry/);
  assert.equal(book.digest("S", [w], seq, now, false), null, "told once");
});

test("a worker's own session is not told about itself", () => {
  const book = new DigestBook(HOUR);
  book.observe(ev("hook.SessionStart", "W5", "own-session"));
  book.digest("own-session", [], seq, now, true);
  book.digest("other", [], seq, now, true);
  book.observe(ev("worker.exited", "W5"));
  const w: WorkerSummary = { id: "W5", state: "exited", exitCode: 0 };
  assert.equal(book.digest("own-session", [w], seq, now, false), null);
  assert.match(book.digest("other", [w], seq, now, false)!.text, /W5 exited 0/);
});

test("cursors survive a restart through digest.delivered; an unknown session starts listening quietly", () => {
  // The log a restarted daemon replays: W1 ended, and S was told (cursor at that seq).
  const exited = ev("worker.exited", "W1");
  const delivered = ev("digest.delivered", undefined, "S", { uptoSeq: exited.seq, workers: 1, overview: false });
  const again = new DigestBook(HOUR);
  for (const e of [exited, delivered]) again.observe(e);
  assert.equal(again.digest("S", [{ id: "W1", state: "exited" }], delivered.seq, now, false), null, "not told twice");
  assert.equal(again.digest("stranger", [{ id: "W1", state: "exited" }], delivered.seq, now, false), null, "no flood on first contact");
});

test("a digest is capped at 2,000 characters: whole lines, then how many more, then where to look", () => {
  const book = new DigestBook(HOUR);
  const many: WorkerSummary[] = Array.from({ length: 200 }, (_, i) => ({ id: `W${i}`, name: `worker-with-a-long-name-${i}`, state: "running", startedAtMs: now }));
  const d = book.digest("S", many, 1, now, true)!;
  assert.ok(d.text.length <= DIGEST_MAX_CHARS, String(d.text.length));
  const lines = d.text.split("\n");
  const shown = lines.filter((l) => /^- W\d+ "worker-with-a-long-name-\d+" running/.test(l)).length;
  assert.ok(shown > 10);
  assert.equal(lines.at(-2), `- …and ${200 - shown} more, not shown here: see \`cpwd status\``);
  assert.match(lines.at(-1)!, /^Run `cpwd status` for every worker/);

  // Ended Claude workers with long results: each line whole, none cut mid-way.
  const ended: WorkerSummary[] = Array.from({ length: 60 }, (_, i) => ({
    id: `W${i}`, state: "exited", startedAtMs: now - 5000, endedAtMs: now - 1000, claude: { costUsd: 0.5, turns: 3, result: "x".repeat(400) },
  }));
  const e = new DigestBook(HOUR).digest("T", ended, 1, now, true)!;
  assert.ok(e.text.length <= DIGEST_MAX_CHARS);
  assert.ok(e.text.split("\n").filter((l) => l.startsWith("- W")).every((l) => l.endsWith("x".repeat(10))), "no line cut");
  assert.match(e.text, /…and \d+ more/);
});

test("an ended worker's line counts in the singular for one, and says why when there is no exit to show", () => {
  const one = describeEnded({ id: "W1", state: "exited", exitCode: 0, claude: { costUsd: 0.01, turns: 1 } });
  assert.match(one, /\(\$0\.0100, 1 turn\)$/);
  assert.match(describeEnded({ id: "W2", state: "fatal", restarts: 1 }), /given up after 1 restart$/);
  assert.match(describeEnded({ id: "W3", state: "fatal", restarts: 5 }), /given up after 5 restarts$/);
  const neverStarted = describeEnded({ id: "W4", state: "failed", exitCode: null, signal: null, startedAtMs: null, reason: "could not start: spawn ENOENT" });
  assert.equal(neverStarted, "- W4 failed (could not start: spawn ENOENT)");
  assert.equal(describeEnded({ id: "W5", state: "backoff", exitCode: null, reason: "lost: its wrapper died without recording an exit" }), "- W5 failed and is restarting (lost: its wrapper died without recording an exit)");
  assert.equal(describeEnded({ id: "W6", state: "stopped", reason: "stopped during its restart backoff (after 3 runs)" }), "- W6 stopped during its restart backoff (after 3 runs)");
  assert.equal(describeEnded({ id: "W7", state: "stopped", reason: "over its cost limit" }), "- W7 was stopped (over its cost limit)");
  assert.equal(describeEnded({ id: "W8", state: "stopped" }), "- W8 was stopped");
});
