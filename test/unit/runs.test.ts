// A worker's history as runs (what `cpwd status W3` lists): each launch with its cause, start, end
// and what followed, a launch that failed, a user's restart and a rerun, and a Claude worker's
// session and cost per run.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { workerHistory } from "../../src/workers/runs.js";
import { workerEvent as ev, workerSpec as spec } from "../helpers/worker-events.js";

const started = (pid: number, atMs: number) => ev("worker.started", { pid, wrapperPid: pid - 1, startedAtMs: atMs }, "W1", atMs);
const exited = (state: string, code: number | null, signal: string | null, atMs: number, extra: Record<string, unknown> = {}) =>
  ev("worker.exited", { state, code, signal, timedOut: false, runMs: 1_000, endedAtMs: atMs, ...extra }, "W1", atMs);

describe("worker runs", () => {
  test("a crash loop: each run, its end and the backoff or fatal that followed", () => {
    const h = workerHistory(
      [
        ev("worker.queued", { spec: { ...spec, restart: { ...spec.restart, mode: "on-failure" } }, envKeys: 12 }),
        ev("worker.starting", { attempt: 0 }),
        started(11, 1_000),
        exited("failed", 3, null, 2_000),
        ev("worker.backoff", { delayMs: 1_500, attempt: 1 }),
        ev("worker.queued", { spec }, "W2"), // another worker's: ignored
        ev("worker.starting", { attempt: 1 }),
        started(21, 4_000),
        exited("failed", null, "SIGSEGV", 5_000),
        ev("worker.fatal", { reason: "restarted 1 time within 60s (limit 1); not restarting", restarts: 1 }),
      ],
      "W1",
    );
    assert.equal(h.runs.length, 2);
    assert.equal(h.restarts, 1);
    assert.equal(h.envCount, 12);
    assert.equal((h.spec?.restart as { mode: string }).mode, "on-failure");
    const [a, b] = h.runs;
    assert.deepEqual([a!.number, a!.cause, a!.pid, a!.state, a!.exitCode, a!.then], [1, "spawn", 11, "failed", 3, "backoff 1.5s"]);
    assert.equal(a!.startedAt, new Date(1_000).toISOString());
    assert.equal(a!.endedAt, new Date(2_000).toISOString());
    assert.deepEqual([b!.number, b!.cause, b!.signal, b!.then], [2, "restart policy", "SIGSEGV", "fatal: restarted 1 time within 60s (limit 1); not restarting"]);
  });

  test("a failed launch has no start; a user restart and a rerun say so; a run under way has no end", () => {
    const h = workerHistory(
      [
        ev("worker.queued", { spec }),
        ev("worker.starting", { attempt: 0 }),
        exited("failed", null, null, 1_000, { reason: "launch failed: ENOENT" }),
        ev("worker.queued", { spec, by: "user restart" }),
        ev("worker.starting", { attempt: 0 }),
        started(31, 2_000),
        ev("worker.stopping", { graceMs: 100, restart: false, reason: "over its cost limit" }),
        exited("stopped", null, "SIGTERM", 3_000),
        ev("worker.queued", { spec: { ...spec, argv: ["y"] }, by: "rerun" }),
        ev("worker.starting", { attempt: 0 }),
        started(41, 4_000),
      ],
      "W1",
    );
    const [a, b, c] = h.runs;
    assert.deepEqual([a!.startedAt, a!.state, a!.reason, a!.then], [null, "failed", "launch failed: ENOENT", "restarted by user"]);
    assert.deepEqual([b!.cause, b!.state, b!.signal, b!.reason, b!.then], ["user restart", "stopped", "SIGTERM", "over its cost limit", "rerun"]);
    assert.deepEqual([c!.cause, c!.pid, c!.state, c!.endedAt], ["rerun", 41, null, null]);
    assert.deepEqual(h.spec?.argv, ["y"], "the spec as last queued");
    assert.deepEqual([h.restarts, h.userRestarts], [1, 1], "the user's restart counts, the rerun does not");
  });

  test("a Claude worker's runs each carry their own session and cost, recorded before or during the run", () => {
    const claude = (run: number, extra: Record<string, unknown>) => ev("worker.claude", { run, done: false, sessionId: null, ...extra });
    const h = workerHistory(
      [
        ev("worker.queued", { spec }),
        ev("worker.starting", { attempt: 0 }),
        claude(1, { logOffset: 0 }),
        started(51, 1_000),
        claude(1, { sessionId: "s-1", costUsd: 0.5, turns: 3, model: "m" }),
        exited("exited", 0, null, 2_000),
        claude(2, { logOffset: 900 }), // recorded before the launch it belongs to
        ev("worker.queued", { spec, by: "rerun" }),
        ev("worker.starting", { attempt: 0 }),
        started(61, 3_000),
        claude(2, { sessionId: "s-1", costUsd: 0.25, turns: 1 }),
      ],
      "W1",
    );
    assert.deepEqual(h.runs.map((r) => [r.claude?.run, r.claude?.sessionId, r.claude?.costUsd, r.claude?.turns]), [
      [1, "s-1", 0.5, 3],
      [2, "s-1", 0.25, 1],
    ]);
  });
});
