// Money, on the pure parts and the supervisor shell with a fake clock: the daily Claude budget holds
// Claude workers in the queue (with the reason) until midnight while others go ahead, and a run
// over its cost limit ends `stopped` with the reason, never restarted by its policy.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { DailyBudget, nextMidnightMs, overLimitReason, startOfDayMs } from "../../daemon/claude/budget.js";
import { ClaudeRuns } from "../../daemon/claude/claude-runs.js";
import type { WorkerLifecycle } from "../../daemon/supervisor/worker-lifecycle.js";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog, settle } from "../helpers/fakes.js";

let home: string;
let clock: FakeClock;
let log: MemoryLog;
let runner: FakeRunner;
let sup: Supervisor | undefined;

const spec = (meta: Record<string, unknown>, over: Partial<WorkerSpec> = {}): WorkerSpec => ({
  argv: ["job"], cwd: "/", env: {}, timeoutMs: null, meta,
  restart: { mode: "on-failure", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 },
  ...over,
});
const claude = { kind: "claude", prompt: "p" };

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-budget-"));
  clock = new FakeClock();
  log = new MemoryLog(clock);
  runner = new FakeRunner(clock);
});
afterEach(async () => {
  await sup?.close();
  sup = undefined;
  rmSync(home, { recursive: true, force: true });
});

test("days are local: a day starts at midnight and the next midnight is a day later", () => {
  const noon = new Date(2026, 10, 27, 12, 30).getTime();
  assert.equal(startOfDayMs(noon), new Date(2026, 10, 27).getTime());
  assert.equal(nextMidnightMs(noon), new Date(2026, 10, 28).getTime());
  assert.equal(nextMidnightMs(new Date(2026, 10, 27).getTime()), new Date(2026, 10, 28).getTime());
});

test("the budget holds only Claude workers, once what runs reported today reaches it", () => {
  const runs = new ClaudeRuns();
  const budget = new DailyBudget(1, (since) => runs.spentSince(since));
  const now = new Date(2026, 10, 27, 15, 0).getTime();
  const w = { meta: claude } as never;
  runs.observe("W1", { run: 1, costUsd: 0.9 }, new Date(2026, 10, 26, 23, 0).getTime()); // yesterday
  runs.observe("W2", { run: 1, costUsd: 0.6 }, now - 60_000);
  assert.equal(budget.holdReason(w, now), null);
  runs.observe("W2", { run: 2, costUsd: 0.4 }, now);
  assert.deepEqual(budget.today(now), { spentUsd: 1, budgetUsd: 1 });
  assert.match(budget.holdReason(w, now) ?? "", /^waiting: today's Claude spend \$1\.00 has reached the daily budget \$1\.00 \(claudeDailyBudgetUsd\)/);
  assert.equal(budget.holdReason({ meta: {} } as never, now), null, "a plain worker is never held");
  assert.equal(new DailyBudget(null, () => 99).holdReason(w, now), null, "no budget, no hold");
});

test("a Claude worker waits queued with the reason while a plain worker behind it starts; at midnight it starts", async () => {
  const runs = new ClaudeRuns();
  runs.observe("W0", { run: 1, costUsd: 5 }, clock.now());
  const budget = new DailyBudget(5, (since) => runs.spentSince(since));
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, { maxParallel: 2 }), runner, startGate: budget }, []);
  await sup.spawn(spec(claude));
  await sup.spawn(spec({}));
  await settle();
  assert.deepEqual(runner.running(), ["W2"]);
  const held = sup.list()[0]!;
  assert.equal(held.state, "queued");
  assert.match(held.reason ?? "", /daily budget \$5\.00/);
  assert.ok(!log.types("W1").includes("worker.starting"), "nothing recorded for the held worker");
  // Still held a minute before midnight; started once the day turns.
  const toMidnight = nextMidnightMs(clock.now()) - clock.now();
  clock.advance(toMidnight - 60_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "queued");
  clock.advance(60_000);
  await settle();
  assert.equal(sup.list()[0]!.state, "running");
  assert.equal(sup.list()[0]!.reason, null);
  assert.equal(clock.pending(), 0, "no recheck timer left once nothing is held");
});

test("a held worker keeps its place: it starts before Claude workers queued after it", async () => {
  let spent = 2;
  const budget = new DailyBudget(1, () => spent);
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log, { maxParallel: 1 }), runner, startGate: budget }, []);
  await sup.spawn(spec(claude));
  await sup.spawn(spec(claude));
  await settle();
  assert.deepEqual(runner.running(), []);
  spent = 0;
  clock.advance(nextMidnightMs(clock.now()) - clock.now());
  await settle();
  assert.deepEqual(runner.running(), ["W1"]);
});

test("a stop with a reason (over a cost limit) ends the run `stopped` with that reason", async () => {
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log), runner }, []);
  await sup.spawn(spec(claude));
  await settle();
  await sup.stop("W1", undefined, { reason: "over its cost limit: $2.0000 spent, --max-cost $1.00" });
  runner.finish("W1", null, "SIGTERM");
  await settle();
  const w = sup.list()[0]!;
  assert.equal(w.state, "stopped");
  assert.equal(w.reason, "over its cost limit: $2.0000 spent, --max-cost $1.00");
  assert.equal(log.records.find((r) => r.type === "worker.stopping")!.payload.reason, w.reason);
});

test("a run that ends on its own over its limit is recorded as stopped, so on-failure does not restart it", async () => {
  const over = new Set<string>();
  const lifecycle: WorkerLifecycle = { stoppedBecause: (w) => (over.has(w.id) ? "over its cost limit: Claude Code stopped at its budget" : undefined) };
  sup = await Supervisor.start({ ctx: fakeContext(home, clock, log), runner, lifecycle }, []);
  await sup.spawn(spec(claude));
  await sup.spawn(spec(claude));
  await settle();
  over.add("W1");
  runner.finish("W1", 1);
  runner.finish("W2", 1);
  await settle();
  const [w1, w2] = sup.list();
  assert.equal(w1!.state, "stopped");
  assert.equal(w1!.exitCode, 1);
  assert.match(w1!.reason ?? "", /Claude Code stopped at its budget/);
  assert.equal(w2!.state, "backoff", "a plain failure still follows its policy");
});

test("over the limit: a cost past --max-cost, or Claude Code's own budget stop", () => {
  assert.equal(overLimitReason({ costUsd: 0.5, subtype: "success" }, 1), null);
  assert.equal(overLimitReason({ costUsd: 1, subtype: "success" }, 1), null, "exactly the limit is within it");
  assert.equal(overLimitReason({ costUsd: 2.5, subtype: "success" }, 1), "over its cost limit: $2.50 spent, --max-cost $1.00");
  assert.equal(overLimitReason({ costUsd: 0.0003, subtype: "error_max_budget_usd" }, null), "over its cost limit: Claude Code stopped at its budget ($0.0003 spent)");
  assert.equal(overLimitReason({ costUsd: null, subtype: null }, 1), null);
});
