// Money, with the real Claude Code CLI against the fake Messages API, whose replies are made costly
// with large usage numbers (100,000 output tokens: $2.00 at the fake model's price): `--max-cost`
// ends a run over it as `stopped`, with the reason, whether Claude Code stops at its budget flag or
// only the daemon sees the cost; the daily budget holds new Claude workers queued, with the reason,
// and `status` shows today's spend against it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { CLAUDE_BIN, withFakeClaude } from "../helpers/claude.js";
import { cpwd, waitFor, withDaemon } from "../helpers/daemon.js";

const PRICEY = { text: "that was expensive", usage: { inputTokens: 10, outputTokens: 100_000 } };

async function endedView(c: RpcClient, id: string): Promise<any> {
  return waitFor(`${id} to end`, async () => {
    const w = (await c.call("worker.get", { target: id })).workers[0] as any;
    return ["exited", "failed", "stopped", "fatal"].includes(w.state) && w.claude?.done ? w : null;
  }, 60_000, 100);
}

test("--max-cost: Claude Code stops at its budget, and the daemon records the run stopped with the reason, not restarted", () =>
  withFakeClaude(() => PRICEY, ({ project, env }) => withDaemon(async (d, c) => {
    const r = cpwd(d.home, ["claude", "--cwd", project, "--max-cost", "0.50", "--restart", "on-failure", "spend"], env);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const w = await endedView(c, id);
    assert.deepEqual(w.command.slice(w.command.indexOf("--max-budget-usd"), w.command.indexOf("--max-budget-usd") + 2), ["--max-budget-usd", "0.5"]);
    assert.equal(w.meta.maxCostUsd, 0.5);
    assert.equal(w.claude.subtype, "error_max_budget_usd");
    assert.equal(w.state, "stopped");
    assert.equal(w.reason, "over its cost limit: $2.00 spent, --max-cost $0.50");
    assert.equal(w.restarts, 0, "its policy did not run it again");
    assert.match(cpwd(d.home, ["status"], { COLUMNS: "200" }).stdout, new RegExp(`^${id}: over its cost limit: \\$2\\.00 spent, --max-cost \\$0\\.50$`, "m"));
  })));

test("the daemon holds the limit itself: a run whose cost passes meta.maxCostUsd ends stopped, though Claude Code had no budget", () =>
  withFakeClaude(() => PRICEY, ({ project, env }) => withDaemon(async (_d, c) => {
    const argv = [CLAUDE_BIN, "-p", "spend", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits"];
    const { worker } = await c.call("worker.spawn", { argv, cwd: project, env, meta: { kind: "claude", maxCostUsd: 0.5 } } as never);
    const w = await endedView(c, String(worker.id));
    assert.equal(w.claude.subtype, "success", "Claude Code itself did not stop it");
    assert.equal(w.state, "stopped");
    assert.equal(w.reason, "over its cost limit: $2.00 spent, --max-cost $0.50");
  })));

test("once today's spend reaches claudeDailyBudgetUsd, a new Claude worker waits queued with the reason; others run; status shows the spend", () =>
  withFakeClaude(() => PRICEY, ({ project, api, env }) => withDaemon({ config: { claudeDailyBudgetUsd: 1 } }, async (d, c) => {
    const first = cpwd(d.home, ["claude", "--cwd", project, "spend"], env).stdout.trim();
    assert.equal((await endedView(c, first)).state, "exited");
    const held = cpwd(d.home, ["claude", "--cwd", project, "more"], env).stdout.trim();
    const plain = cpwd(d.home, ["spawn", "--cwd", project, "--", "true"]).stdout.trim();
    await waitFor("the plain worker to run and end", async () => (await c.call("worker.get", { target: plain })).workers[0]?.state === "exited");
    const status = await c.call("status");
    const w = (status.workers as any[]).find((x) => x.id === held);
    assert.equal(w.state, "queued");
    const reason = "waiting: today's Claude spend $2.00 has reached the daily budget $1.00 (claudeDailyBudgetUsd); it starts after midnight";
    assert.equal(w.reason, reason);
    const spend = status.claudeSpend as { spentUsd: number; budgetUsd: number };
    assert.equal(spend.budgetUsd, 1);
    assert.ok(Math.abs(spend.spentUsd - 2.00004) < 1e-6, String(spend.spentUsd));
    const text = cpwd(d.home, ["status"], { COLUMNS: "200" }).stdout;
    assert.match(text, /^ {2}claude {3}\$2\.00 spent today of a \$1\.00 daily budget: reached, Claude workers wait queued until midnight$/m);
    assert.ok(text.includes(`${held}: ${reason}`), text);
    assert.equal(api.turns().length, 1, "the held worker never called the model");
  })));
