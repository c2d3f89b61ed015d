// The turn scheduler on its own, with stand-in connections that handle their lines as the real
// Connection does (ask `mayHandle` before each line; when refused, queue the rest, fresh if none
// was handled yet). Lines cost real time (a spin past the budget), so that a turn ends after one.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { TurnScheduler } from "../../src/rpc/turn-scheduler.js";

const BUDGET_MS = 1;

/** Holds the thread for `ms`: a line that costs that much of the daemon's time. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** A stand-in connection: `arrive()` is its lines coming in while it was idle. */
function connection(name: string, lines: number, costMs: number, turns: TurnScheduler, log: string[]) {
  let next = 0;
  const pump = (fresh: boolean): void => {
    let n = 0;
    while (next < lines) {
      if (!turns.mayHandle()) {
        turns.enqueue(() => pump(false), fresh && n === 0);
        return;
      }
      n++;
      log.push(`${name}:${next++}`);
      spin(costMs);
    }
  };
  return { arrive: () => pump(true), done: () => next === lines };
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}

test("a client that was idle is served before flooders whose bursts came after it, and each burst gets one line ahead of the rest", async () => {
  const turns = new TurnScheduler(BUDGET_MS);
  const log: string[] = [];
  // A flooder already at work spends this pass's budget, so everything after it must queue.
  const busy = connection("busy", 5, BUDGET_MS * 1.2, turns, log);
  const good = connection("good", 1, 0, turns, log);
  const bursts = Array.from({ length: 20 }, (_, k) => connection(`f${k}`, 5, BUDGET_MS * 1.2, turns, log));
  busy.arrive();
  good.arrive();
  for (const b of bursts) b.arrive();
  await until(() => busy.done() && good.done() && bursts.every((b) => b.done()));

  assert.equal(log[0], "busy:0", "the first line is handled at once");
  assert.equal(log[1], "good:0", `the idle client's line comes next, whatever arrived after it: ${log.slice(0, 6).join(" ")}`);
  // Then each burst's first line, in the order they came, before any burst's second line.
  const firsts = log.filter((l) => /^f\d+:0$/.test(l));
  assert.deepEqual(firsts, bursts.map((_, k) => `f${k}:0`));
  const lastFirst = log.indexOf("f19:0");
  assert.ok(log.slice(0, lastFirst).every((l) => !/^f\d+:[1-9]$/.test(l)), `no burst's second line before every burst's first: ${log.slice(0, lastFirst + 1).join(" ")}`);
  assert.equal(log.length, 5 + 1 + 20 * 5, "every line was handled");
});

test("a connection cut short goes to the back: two flooders alternate, a turn each", async () => {
  const turns = new TurnScheduler(BUDGET_MS);
  const log: string[] = [];
  const a = connection("a", 4, BUDGET_MS * 1.2, turns, log);
  const b = connection("b", 4, BUDGET_MS * 1.2, turns, log);
  a.arrive();
  b.arrive();
  await until(() => a.done() && b.done());
  // a's first line at once; b's first as a fresh one-line slice; then one line a turn each, in turn.
  assert.deepEqual(log, ["a:0", "b:0", "a:1", "b:1", "a:2", "b:2", "a:3", "b:3"]);
});
