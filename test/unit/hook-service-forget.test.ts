// A daemon that runs for months forgets Claude Code sessions gone for good (silent for
// sessionGoneMs), as a snapshot does: the hook service's per-session state stays bounded by the
// sessions still about, and a gone session that comes back is new (no old news).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventLog } from "../../src/eventlog/append.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import { HookService } from "../../daemon/coordination/hook-service.js";
import { DigestBook } from "../../daemon/coordination/digests.js";
import { sessionGoneMs } from "../../daemon/coordination/native-work.js";
import { fakeContext, FakeClock, MemoryLog } from "../helpers/fakes.js";

const HOUR = 3_600_000;

/** The record in memory, with the live subscription the hook service folds from. */
class SubscribedLog extends MemoryLog {
  private readonly subscribers: Array<(records: EventRecord[]) => void> = [];
  get lastSeq(): number {
    return this.records.length;
  }
  subscribe(fn: (records: EventRecord[]) => void): () => void {
    this.subscribers.push(fn);
    return () => undefined;
  }
  override async append(inputs: EventInput[]): Promise<EventRecord[]> {
    const out = await super.append(inputs);
    for (const fn of this.subscribers) fn(out);
    return out;
  }
}

function service() {
  const clock = new FakeClock();
  const log = new SubscribedLog(clock);
  const ctx = fakeContext("/tmp/cpwd-hook-service-forget", clock, log, { digestRecentMs: HOUR });
  const hooks = new HookService({ ctx, log: log as unknown as EventLog, workers: () => [], worker: () => undefined }, []);
  const call = (session: string, event = "UserPromptSubmit") => hooks.handle({ hook_event_name: event, session_id: session, cwd: "/tmp" }, undefined);
  return { clock, hooks, call };
}

test("a session silent for sessionGoneMs is forgotten by a daemon that ran throughout; one heard within it is kept", async () => {
  const { clock, hooks, call } = service();
  await call("gone", "SessionStart");
  await call("kept", "SessionStart");
  clock.advance(sessionGoneMs(HOUR) - HOUR);
  await call("kept");
  assert.equal(hooks.digests.knows("gone"), true, "not gone yet: silent for less than sessionGoneMs");
  clock.advance(2 * HOUR);
  // The next event after the sweep's interval looks for gone sessions.
  await call("kept");
  assert.equal(hooks.digests.knows("gone"), false, "silent for longer than sessionGoneMs: forgotten");
  assert.equal(hooks.digests.knows("kept"), true);
});

test("the digest book forgets a silent session whole, and news reaches it again from its return", () => {
  const book = new DigestBook(HOUR);
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const hook = (seq: number, ms: number, session: string, worker?: string): EventRecord => ({ v: 1, seq, ts: at(ms), type: "hook.UserPromptSubmit", source: "hook", session, ...(worker ? { worker } : {}), payload: {} });
  book.observe(hook(1, 0, "old", "W1"));
  book.observe(hook(2, 10 * HOUR, "new"));
  const ended = { id: "W2", state: "exited", exitCode: 0, endedAtMs: t0 + 11 * HOUR, startedAtMs: t0 };
  book.observe({ v: 1, seq: 3, ts: at(11 * HOUR), type: "worker.exited", source: "daemon", worker: "W2", payload: {} });
  // Any client may tag its own events with a session: the book keeps nothing for those.
  book.observe({ v: 1, seq: 4, ts: at(0), type: "ext.note", source: "cli", session: "a-tool's-own", payload: {} });
  assert.deepEqual(book.forgetSilentSince(t0 + 5 * HOUR), ["old"]);
  assert.equal(book.knows("old"), false);
  assert.equal(book.knows("new"), true);
  // Back after being forgotten: its first call starts it listening from there, W2 is no news...
  assert.equal(book.digest("old", [ended], 3, t0 + 12 * HOUR, false), null);
  // ...and a worker that ends after its return is.
  book.observe({ v: 1, seq: 5, ts: at(12 * HOUR), type: "worker.exited", source: "daemon", worker: "W3", payload: {} });
  const news = book.digest("old", [ended, { ...ended, id: "W3", endedAtMs: t0 + 12 * HOUR }], 5, t0 + 12 * HOUR, false);
  assert.match(news?.text ?? "", /W3/);
  assert.doesNotMatch(news?.text ?? "", /W2/);
});
