// Carries out `cpwd apply`'s steps against the daemon, one at a time, and says what each did as a
// verb, the entry's name and a detail: started / unchanged / restarted / stopped (pruned) / kept /
// failed. A step that fails says why and the others go on. `dryRun` says what would be done.
import type { ParamsOf } from "../../src/protocol/rpc-methods.js";
import type { WorkerView } from "../../src/protocol/workers.js";
import type { RpcClient } from "../../src/rpc/client.js";
import type { ApplyEntry, ApplyFile } from "./apply-file.js";
import { appliedMeta, hasEnded, type Step } from "./plan.js";

/** What one step did. */
export interface Outcome {
  verb: string;
  name: string;
  detail: string;
  ok: boolean;
}

/** How long a stop is awaited beyond the entry's grace (the daemon's default grace is 10 s). */
const STOP_SLACK_MS = 60_000;
const POLL_MS = 100;

/** The `worker.spawn` params of an entry: the caller's environment plus the file's overrides. */
export function spawnParamsOf(file: ApplyFile, entry: ApplyEntry, callerEnv: NodeJS.ProcessEnv): ParamsOf<"worker.spawn"> {
  const env: Record<string, string> = {};
  // As `cpwd spawn`: names with '=' (Windows' `=C:`) cannot be passed on.
  for (const [k, v] of Object.entries(callerEnv)) if (v !== undefined && k !== "" && !k.includes("=")) env[k] = v;
  return {
    argv: entry.argv,
    name: entry.name,
    cwd: entry.cwd,
    env: { ...env, ...entry.env },
    timeoutMs: entry.timeoutMs,
    ...(entry.graceMs !== undefined ? { graceMs: entry.graceMs } : {}),
    restart: entry.restart,
    meta: { applied: appliedMeta(file.path, entry) },
  };
}

/** Stops a worker that has not ended (with the entry's grace, if it gives one) and waits for its end. */
async function stopAndWait(client: RpcClient, worker: WorkerView, graceMs: number | undefined): Promise<void> {
  if (hasEnded(worker.state)) return;
  await client.call("worker.stop", { target: worker.id, ...(graceMs !== undefined ? { graceMs } : {}) });
  const deadline = Date.now() + (graceMs ?? 10_000) + STOP_SLACK_MS;
  for (;;) {
    const w = (await client.call("worker.get", { target: worker.id })).workers[0] as WorkerView | undefined;
    if (!w || hasEnded(w.state)) return;
    if (Date.now() > deadline) throw new Error(`${worker.id} did not stop in time (still ${w.state})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function outcome(verb: string, name: string, detail: string, ok = true): Outcome {
  return { verb, name, detail, ok };
}

/** Carries out one step (or, with `dryRun`, says what it would do). */
export async function carryOut(step: Step, client: RpcClient, file: ApplyFile, callerEnv: NodeJS.ProcessEnv, dryRun: boolean): Promise<Outcome> {
  switch (step.kind) {
    case "start": {
      if (dryRun) return outcome("would start", step.entry.name, "");
      const { worker } = await client.call("worker.spawn", spawnParamsOf(file, step.entry, callerEnv));
      return outcome("started", step.entry.name, String(worker.id));
    }
    case "unchanged":
      return outcome("unchanged", step.entry.name, `${step.worker.id} (${step.worker.state})`);
    case "start-again":
      if (!dryRun) await client.call("worker.restart", { target: step.worker.id });
      return outcome(dryRun ? "would start" : "started", step.entry.name, `${step.worker.id} again (it had ended: ${step.worker.state})`);
    case "restart": {
      const { entry, worker } = step;
      const why = `(${step.changed.join(", ")} changed)`;
      if (dryRun) return outcome("would restart", entry.name, `${worker.id} ${why}`);
      await stopAndWait(client, worker, entry.graceMs);
      if (step.how === "rerun") {
        await client.call("worker.rerun", { target: worker.id, argv: entry.argv, meta: { applied: appliedMeta(file.path, entry) } });
        return outcome("restarted", entry.name, `${worker.id} ${why}`);
      }
      // A new folder, environment or policy needs a new worker: the old one goes, its name is reused.
      await client.call("worker.remove", { target: worker.id });
      const { worker: fresh } = await client.call("worker.spawn", spawnParamsOf(file, entry, callerEnv));
      return outcome("restarted", entry.name, `${worker.id} → ${String(fresh.id)} ${why}`);
    }
    case "conflict":
      return outcome(
        "failed",
        step.entry.name,
        `a worker named ${step.entry.name} exists already (${step.worker.id}), not started from ${file.shown}; \`cpwd rm ${step.entry.name}\` frees the name`,
        false,
      );
    case "prune": {
      const { worker } = step;
      const ended = hasEnded(worker.state);
      if (!dryRun) {
        await stopAndWait(client, worker, undefined);
        await client.call("worker.remove", { target: worker.id });
      }
      const verb = dryRun ? (ended ? "would remove" : "would stop") : ended ? "removed" : "stopped";
      return outcome(verb, worker.name ?? worker.id, `${worker.id} (pruned: no longer in ${file.shown}${ended ? "" : "; removed"})`);
    }
    case "keep":
      return outcome("kept", step.worker.name ?? step.worker.id, `${step.worker.id} (no longer in ${file.shown}; --prune stops and removes it)`);
  }
}

/** Carries out every step in order; a failed step is an outcome, not the end. */
export async function carryOutAll(steps: Step[], client: RpcClient, file: ApplyFile, callerEnv: NodeJS.ProcessEnv, dryRun: boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const step of steps) {
    try {
      outcomes.push(await carryOut(step, client, file, callerEnv, dryRun));
    } catch (err) {
      const name = "entry" in step ? step.entry.name : (step.worker.name ?? step.worker.id);
      outcomes.push(outcome("failed", name, (err as Error).message, false));
    }
  }
  return outcomes;
}

/** The outcomes as aligned lines: verb, name, detail. */
export function formatOutcomes(outcomes: Outcome[]): string[] {
  const verbWidth = Math.max(0, ...outcomes.map((o) => o.verb.length));
  const nameWidth = Math.max(0, ...outcomes.map((o) => o.name.length));
  return outcomes.map((o) => `${o.verb.padEnd(verbWidth)}  ${o.detail === "" ? o.name : `${o.name.padEnd(nameWidth)}  ${o.detail}`}`);
}
