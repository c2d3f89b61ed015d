// How the actions Claude Code refused in a worker's run read: in words, in `cpwd status` and in
// a conductor's digest; a run whose every edit was refused needs attention.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeRefusals, needsAttention, type RefusalFacts } from "../../src/protocol/claude-permissions.js";
import { describeEnded } from "../../daemon/coordination/digests.js";
import { formatWorkerTable } from "../../cli/format/worker-table.js";
import type { WorkerView } from "../../src/protocol/workers.js";

const write = { tool: "Write", target: "np.txt", toolUseId: "toolu_1" };
const bash = { tool: "Bash", target: "npm test", toolUseId: "toolu_2" };
const some: RefusalFacts = { refused: [write, bash], refusedCount: 2, edits: 2, editsRefused: 1, permissionMode: "default" };
const everyEdit: RefusalFacts = { refused: [write], refusedCount: 1, edits: 1, editsRefused: 1, permissionMode: "dontAsk" };

test("refusals in words: how many, and which, by tool and target", () => {
  assert.deepEqual(describeRefusals(some), { text: "2 actions were refused (Write np.txt, Bash npm test)", attention: false });
  assert.equal(describeRefusals({ refused: [], refusedCount: 0, edits: 3, editsRefused: 0 }), null);
  assert.equal(describeRefusals({}), null, "a worker.claude from before refusals were read");
  const many = { refused: [write, bash, write, bash], refusedCount: 7, edits: 9, editsRefused: 2 };
  assert.equal(describeRefusals(many)!.text, "7 actions were refused (Write np.txt, Bash npm test, Write np.txt and 4 more)");
});

test("a run that tried to edit and had every edit refused needs attention, naming the mode", () => {
  assert.equal(needsAttention(everyEdit), true);
  assert.deepEqual(describeRefusals(everyEdit), { text: "every edit was refused (Write np.txt; permission mode dontAsk)", attention: true });
  assert.equal(needsAttention({ refused: [bash], refusedCount: 1, edits: 0, editsRefused: 0 }), false, "no edit tried: only refused");
});

function view(state: WorkerView["state"], claude: Record<string, unknown>): WorkerView {
  return {
    id: "W3", name: null, state, pid: null, command: ["claude"], cwd: "/p", startedAt: null, endedAt: null, runMs: 1000, restarts: 0,
    exitCode: state === "exited" ? 0 : null, signal: null, timedOut: false, reason: null, nextStartAt: null, meta: {}, claude,
  };
}

test("cpwd status says it under the table: done, but …; so far …; needs attention", () => {
  const done = formatWorkerTable([view("exited", { costUsd: 0.0004, turns: 3, result: "ok", ...some })], 200, 0);
  assert.match(done, /\nW3 claude: \$0\.0004, 3 turns: ok\nW3 done, but 2 actions were refused \(Write np\.txt, Bash npm test\)$/);
  assert.match(formatWorkerTable([view("running", { ...some })], 200, 0), /\nW3 so far 2 actions were refused/);
  assert.match(formatWorkerTable([view("exited", { ...everyEdit })], 200, 0), /\nW3 needs attention: every edit was refused \(Write np\.txt; permission mode dontAsk\)$/);
  assert.doesNotMatch(formatWorkerTable([view("exited", { costUsd: 0.1, turns: 1, result: "ok" })], 200, 0), /refused/);
});

test("the digest line says it, between the run's figures and its result", () => {
  const base = { id: "W3", state: "exited", startedAtMs: 1_000, endedAtMs: 3_000 };
  assert.equal(
    describeEnded({ ...base, claude: { costUsd: 0.0004, turns: 3, result: "Wrote what I could.", ...some } }),
    "- W3 exited 0 after 2s ($0.0004, 3 turns), but 2 actions were refused (Write np.txt, Bash npm test): Wrote what I could.",
  );
  assert.equal(
    describeEnded({ ...base, claude: { costUsd: 0.0004, turns: 2, result: "I could not write np.txt.", ...everyEdit } }),
    "- W3 exited 0 after 2s ($0.0004, 2 turns), but it needs attention: every edit was refused (Write np.txt; permission mode dontAsk): I could not write np.txt.",
  );
});
