// `cpwd apply`'s plan, decided from the file's entries and the daemon's workers alone: a worker is
// the file's by its meta.applied, a change is found part by part, and only a new command is a rerun.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ApplyEntry } from "../../cli/apply/apply-file.js";
import { appliedMeta, planApply } from "../../cli/apply/plan.js";
import { RestartPolicySchema, type WorkerView } from "../../src/protocol/workers.js";

const FILE = "/p/cpwd.json";

function entry(name: string, over: Partial<ApplyEntry> = {}): ApplyEntry {
  return { index: 0, name, argv: ["sleep", "9"], cwd: "/p", env: {}, timeoutMs: null, graceMs: undefined, restart: RestartPolicySchema.parse({}), ...over };
}

/** A worker the daemon shows, started from `file` for `from` (or by hand when `from` is null). */
function worker(id: string, name: string | null, state: WorkerView["state"], from: ApplyEntry | null, file = FILE): WorkerView {
  return {
    id, name, state, pid: null, command: from?.argv ?? ["sleep", "9"], cwd: from?.cwd ?? "/p", startedAt: null, endedAt: null, runMs: null,
    restarts: 0, exitCode: null, signal: null, timedOut: false, reason: null, nextStartAt: null,
    meta: from ? { applied: appliedMeta(file, from) } : {},
  };
}

test("each entry is started, left, started again, restarted or refused, by what the daemon shows", () => {
  const same = entry("same");
  const ended = entry("ended");
  const steps = planApply(
    [entry("new"), same, ended, entry("cmd", { argv: ["sleep", "10"] }), entry("env", { env: { A: "1" } }), entry("hand"), entry("theirs")],
    [
      worker("W1", "same", "running", same),
      worker("W2", "ended", "failed", ended),
      worker("W3", "cmd", "running", entry("cmd")),
      worker("W4", "env", "backoff", entry("env", { env: { A: "0" } })),
      worker("W5", "hand", "running", null),
      worker("W6", "theirs", "running", entry("theirs"), "/q/cpwd.json"),
    ],
    FILE,
    false,
  );
  assert.deepEqual(
    steps.map((s) => [s.kind, "entry" in s ? s.entry.name : s.worker.name, "changed" in s ? `${s.how}: ${s.changed.join(",")}` : ""]),
    [
      ["start", "new", ""],
      ["unchanged", "same", ""],
      ["start-again", "ended", ""],
      ["restart", "cmd", "rerun: command"],
      ["restart", "env", "replace: env"],
      ["conflict", "hand", ""],
      ["conflict", "theirs", ""],
    ],
  );
});

test("a worker rerun by hand with another command counts as changed; workers of this file no longer listed are pruned or kept", () => {
  const a = entry("a");
  const byHand = { ...worker("W1", "a", "running", a), command: ["other"] };
  const gone = worker("W10", "gone", "running", entry("gone"));
  const alsoGone = worker("W9", "also", "exited", entry("also"));
  const other = worker("W2", "other", "running", entry("other"), "/q/cpwd.json");
  const steps = planApply([a], [byHand, gone, alsoGone, other], FILE, true);
  assert.deepEqual(
    steps.map((s) => `${s.kind} ${"entry" in s ? s.entry.name : s.worker.id}`),
    ["restart a", "prune W9", "prune W10"],
  );
  assert.deepEqual(planApply([], [gone], FILE, false).map((s) => s.kind), ["keep"]);
});

test("the recorded meta holds hashes, never the environment's values", () => {
  const meta = appliedMeta(FILE, entry("s", { env: { TOKEN: "secret-value" } }));
  assert.doesNotMatch(JSON.stringify(meta), /secret-value/);
  assert.deepEqual(Object.keys(meta.fields), ["command", "cwd", "env", "timeout", "grace", "restart"]);
  assert.equal(appliedMeta(FILE, entry("s", { env: { B: "2", A: "1" } })).hash, appliedMeta(FILE, entry("s", { env: { A: "1", B: "2" } })).hash, "the order of env keys does not matter");
});
