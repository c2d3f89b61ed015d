// The events the supervisor writes about a worker's runs: queued (new, or a rerun), started, its end,
// and the decision that follows an end (a user's restart, a policy backoff, fatal). Pure: the supervisor commits them.
import type { EventInput } from "../../src/protocol/events.js";
import { plural } from "../../src/protocol/plural.js";
import type { WorkerSpec } from "../../src/protocol/workers.js";
import type { WorkerRecord } from "../../src/workers/machine.js";
import { classifyExit, decideAfterExit } from "../../src/workers/policy.js";
import type { ExitStatus, WorkerHandle } from "../runner/runner.js";

/** The `reason` of a worker whose wrapper died without recording its end (its group is killed). */
const LOST_LIVE = "lost: its wrapper died without recording an exit";
/** The `reason` of a worker found neither running nor ended after a daemon restart. */
export const LOST_ADOPTED = "lost: its wrapper was gone when the daemon came back";

/** The `reason` of a worker ended by `cpwd kill`: its end then says it was killed, not just stopped. */
export const KILLED = "killed (SIGKILL) by `cpwd kill`";

/** Why a worker stopped while waiting to run (queued, or in its restart backoff) ended: what it had done. */
export function cancelledReason(w: WorkerRecord): string {
  if (w.state === "backoff") return `stopped during its restart backoff (after ${plural(w.runs, "run")})`;
  return w.runs === 0 ? "stopped before it started" : `stopped before its next run started (after ${plural(w.runs, "run")})`;
}

/** The shell's codes for a command that could not be run: said in words, or `status` shows a bare 127. */
function exitHint(id: string, code: number | null): string | undefined {
  if (code === 127) return `exit 127: the command was not found, as a rule; see \`cpwd logs ${id} --stderr\``;
  if (code === 126) return `exit 126: the command could not be executed, as a rule; see \`cpwd logs ${id} --stderr\``;
  return undefined;
}

/** `worker.queued` for a new worker; the environment stays out (only how many variables it has). */
export function queuedEvent(id: string, spec: WorkerSpec, defaultGraceMs: number): EventInput {
  const { env, ...rest } = spec;
  return { type: "worker.queued", worker: id, payload: { spec: { ...rest, graceMs: spec.graceMs ?? defaultGraceMs }, envKeys: Object.keys(env).length } };
}

/** `worker.starting`: a launch of a queued (or backoff) worker, with its backoff attempt. */
export function startingEvent(w: WorkerRecord): EventInput {
  return { type: "worker.starting", worker: w.id, payload: { attempt: w.attempt } };
}

/** `worker.started`, with what adopting the worker after a daemon restart needs to know it again. */
export function startedEvent(id: string, h: WorkerHandle): EventInput {
  return {
    type: "worker.started",
    worker: id,
    payload: { pid: h.pid, wrapperPid: h.wrapperPid, pidStartTime: h.pidStartTime, wrapperStartTime: h.wrapperStartTime, startedAtMs: h.startedAtMs },
  };
}

/**
 * The events that record an end: `worker.timeout` if its deadline fired, then `worker.exited`.
 * `stoppedBecause` (from the worker's lifecycle: over its cost limit, say) makes the end cpwd's stop,
 * as does a stop under way, whose reason the record keeps.
 */
export function exitEvents(w: WorkerRecord, exit: ExitStatus, reason?: string, stoppedBecause?: string): EventInput[] {
  const id = w.id;
  const state = classifyExit(exit, w.state === "stopping" || stoppedBecause !== undefined);
  // The wrapper's clock reading of the end can precede the daemon's of the start by a few ms
  // for a worker that ends at once: an end is never before its start.
  const endedAtMs = w.startedAtMs !== null ? Math.max(exit.endedAtMs, w.startedAtMs) : exit.endedAtMs;
  const runMs = w.startedAtMs !== null ? endedAtMs - w.startedAtMs : 0;
  const stopReason = stoppedBecause ?? (w.state === "stopping" ? w.reason : null) ?? undefined;
  const why = reason ?? (exit.lost ? LOST_LIVE : (stopReason ?? exitHint(id, exit.code)));
  const events: EventInput[] = [];
  if (exit.timedOut) events.push({ type: "worker.timeout", worker: id, payload: { timeoutMs: w.timeoutMs } });
  events.push({
    type: "worker.exited",
    worker: id,
    payload: { state, code: exit.code, signal: exit.signal, timedOut: exit.timedOut, runMs, endedAtMs, ...(why ? { reason: why } : {}) },
  });
  return events;
}

/** `worker.stopping` with the grace it asked for; a kill (`cpwd kill`) says so as its reason. */
export function stoppingEvent(id: string, graceMs: number, opts: { restart?: boolean; reason?: string; kill?: boolean }): EventInput {
  const reason = opts.kill ? KILLED : opts.reason;
  return { type: "worker.stopping", worker: id, payload: { graceMs, restart: opts.restart === true, ...(reason === undefined ? {} : { reason }) } };
}

/** `worker.queued` again, for a user's restart of a worker that has ended. */
export function requeuedByUser(w: WorkerRecord): EventInput {
  const spec = { name: w.name, argv: w.argv, cwd: w.cwd, timeoutMs: w.timeoutMs, graceMs: w.graceMs, restart: w.restart, meta: w.meta };
  return { type: "worker.queued", worker: w.id, payload: { spec, by: "user restart" } };
}

/** `worker.queued` again for a worker whose launch a daemon crash cut short before it ran. */
export function launchInterrupted(w: WorkerRecord): EventInput {
  const spec = { name: w.name, argv: w.argv, cwd: w.cwd, timeoutMs: w.timeoutMs, graceMs: w.graceMs, restart: w.restart, meta: w.meta };
  return { type: "worker.queued", worker: w.id, payload: { spec, by: "launch interrupted" } };
}

/** `worker.queued` for a new run of an ended worker with a new command, and new meta if given. */
export function rerunEvent(w: WorkerRecord, argv: string[], meta?: Record<string, unknown>): EventInput {
  const spec = { name: w.name, argv, cwd: w.cwd, timeoutMs: w.timeoutMs, graceMs: w.graceMs, restart: w.restart, meta: meta ?? w.meta };
  return { type: "worker.queued", worker: w.id, payload: { spec, by: "rerun" } };
}

/** What follows an end: the events to record, then what to do once they are durable. */
export interface FollowUp {
  events: EventInput[];
  then: { kind: "none" } | { kind: "queue" } | { kind: "backoff"; delayMs: number };
}

/** A user's pending restart, or else the restart policy, for a worker as its end left it. */
export function followUp(ended: WorkerRecord, nowMs: number, random: () => number): FollowUp {
  const id = ended.id;
  if (ended.restartRequested && ended.state === "stopped") return { events: [requeuedByUser(ended)], then: { kind: "queue" } };
  const next = decideAfterExit(ended, nowMs, random);
  if (next.kind === "backoff") {
    return {
      events: [{ type: "worker.backoff", worker: id, payload: { delayMs: next.delayMs, attempt: next.attempt, counted: next.counted } }],
      then: { kind: "backoff", delayMs: next.delayMs },
    };
  }
  if (next.kind === "fatal") {
    return { events: [{ type: "worker.fatal", worker: id, payload: { reason: next.reason, restarts: ended.restarts } }], then: { kind: "none" } };
  }
  return { events: [], then: { kind: "none" } };
}
