// Agent-team teammates through the real daemon: TeammateIdle, TaskCreated and TaskCompleted hook
// calls over the socket (as the shim sends them) make the teammate, its state and its last task
// part of `status`'s `native.teammates`, beside cpwd's workers.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RpcClient } from "../../src/rpc/client.js";
import { withDaemon } from "../helpers/daemon.js";

const SESSION = "lead-session-1";

/** A hook call of the lead session about teammate `reviewer` of team `docs`. */
function teammateHook(event: string, extra: Record<string, unknown> = {}) {
  return { hook_event_name: event, session_id: SESSION, cwd: "/repo", transcript_path: "/tmp/none.jsonl", teammate_name: "reviewer", team_name: "docs", ...extra };
}

/** The teammates `status` shows, without the time each entered its state (checked apart). */
async function teammates(c: RpcClient): Promise<Array<Record<string, unknown>>> {
  const { native } = (await c.call("status")) as unknown as { native: { teammates: Array<Record<string, unknown>> } };
  return native.teammates.map(({ since, ...rest }) => {
    assert.ok(!Number.isNaN(Date.parse(String(since))), `since is a time: ${String(since)}`);
    return rest;
  });
}

test("a teammate is idle after TeammateIdle, working once a task names it, its tasks counted and the last one's subject kept", () => withDaemon(async (_d, c) => {
  const reviewer = { session: SESSION, name: "reviewer", team: "docs" };
  assert.deepEqual(await teammates(c), [], "none before any hook call");

  await c.call("hook.handle", { event: teammateHook("TeammateIdle") });
  assert.deepEqual(await teammates(c), [{ ...reviewer, state: "idle", tasksCreated: 0, tasksCompleted: 0, lastTask: null }]);

  await c.call("hook.handle", { event: teammateHook("TaskCreated", { task_id: "t1", task_subject: "Review README" }) });
  assert.deepEqual(await teammates(c), [{ ...reviewer, state: "working", tasksCreated: 1, tasksCompleted: 0, lastTask: "Review README" }]);

  await c.call("hook.handle", { event: teammateHook("TaskCompleted", { task_id: "t1", task_subject: "Review README" }) });
  assert.deepEqual(await teammates(c), [{ ...reviewer, state: "working", tasksCreated: 1, tasksCompleted: 1, lastTask: "Review README" }]);

  await c.call("hook.handle", { event: teammateHook("TeammateIdle") });
  assert.deepEqual(await teammates(c), [{ ...reviewer, state: "idle", tasksCreated: 1, tasksCompleted: 1, lastTask: "Review README" }], "idle again, its tasks kept");
}));
