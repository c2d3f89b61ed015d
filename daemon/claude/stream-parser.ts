// Reads `claude -p --output-format stream-json --verbose` output as it comes: one JSON object a
// line (system init, assistant and user messages, hook progress, and a final `result`). Keeps what
// status and digests show. Pure: fed text, no I/O; unknown line types are ignored.
import type { RefusedAction } from "../../src/protocol/claude-permissions.js";
import { emptyTally, RefusalReader, type RefusalTally } from "./refusals.js";

/** What a Claude worker has reported so far. */
export interface ClaudeProgress {
  sessionId: string | null;
  model: string | null;
  /** Assistant messages seen so far (the final `num_turns` replaces it when the result arrives). */
  turns: number;
  /** What this run cost, USD (after a `--resume`, not the session's total). */
  costUsd: number | null;
  isError: boolean | null;
  /** `success`, or the error kind, from the result line. */
  subtype: string | null;
  /** The final text, capped. */
  result: string | null;
  durationMs: number | null;
  done: boolean;
  /** The mode Claude Code says it runs in (the init line's `permissionMode`). */
  permissionMode: string | null;
  /** What it refused in this run, and the edits it attempted (refusals.ts). */
  refusals: RefusalTally;
}

export const RESULT_MAX_CHARS = 4_000;

export function emptyProgress(): ClaudeProgress {
  return { sessionId: null, model: null, turns: 0, costUsd: null, isError: null, subtype: null, result: null, durationMs: null, done: false, permissionMode: null, refusals: emptyTally() };
}

/**
 * This run's cost after a result line. `total_cost_usd` is the session's: a resumed session's
 * (`--resume`, `--fork-session`) includes what its earlier runs cost. `model_usage_since_last_result`
 * (2.1.331) holds what this process spent since its previous result, per model: summed, and added
 * up over the results of one run. A CLI without it: the total, which is this run's for a new session.
 */
function runCostUsd(sofar: number | null, msg: Record<string, unknown>): number | null {
  const since = msg.model_usage_since_last_result;
  if (typeof since === "object" && since !== null) {
    let add = 0;
    for (const m of Object.values(since)) {
      const c = (m as { costUSD?: unknown } | null)?.costUSD;
      if (typeof c === "number" && Number.isFinite(c)) add += c;
    }
    return (sofar ?? 0) + add;
  }
  return typeof msg.total_cost_usd === "number" ? msg.total_cost_usd : sofar;
}

/** Applies one parsed line; returns true when it changed something worth recording. */
export function applyStreamLine(p: ClaudeProgress, msg: Record<string, unknown>): boolean {
  switch (msg.type) {
    case "system":
      if (msg.subtype === "init") {
        if (typeof msg.session_id === "string") p.sessionId = msg.session_id;
        if (typeof msg.model === "string") p.model = msg.model;
        if (typeof msg.permissionMode === "string") p.permissionMode = msg.permissionMode;
        return true;
      }
      return false;
    case "assistant":
      p.turns++;
      if (!p.sessionId && typeof msg.session_id === "string") p.sessionId = msg.session_id;
      return false;
    case "result":
      p.done = true;
      if (typeof msg.session_id === "string") p.sessionId = msg.session_id;
      if (typeof msg.num_turns === "number") p.turns = msg.num_turns;
      p.costUsd = runCostUsd(p.costUsd, msg);
      if (typeof msg.is_error === "boolean") p.isError = msg.is_error;
      if (typeof msg.subtype === "string") p.subtype = msg.subtype;
      if (typeof msg.duration_ms === "number") p.durationMs = msg.duration_ms;
      if (typeof msg.result === "string") p.result = msg.result.slice(0, RESULT_MAX_CHARS);
      return true;
    default:
      return false;
  }
}

/** Splits a growing text stream into lines and applies each JSON line. */
export class StreamParser {
  readonly progress = emptyProgress();
  private carry = "";
  private readonly refusals = new RefusalReader(this.progress.refusals);
  private fresh: RefusedAction[] = [];

  /** The refused actions read since the last call, each once (a `permission.denied` event each). */
  takeRefused(): RefusedAction[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** Feeds a chunk; returns true if a line changed the progress in a way worth recording. */
  push(text: string): boolean {
    let changed = false;
    const parts = (this.carry + text).split("\n");
    this.carry = parts.pop() ?? "";
    // A runaway line without newline must not grow without bound.
    if (this.carry.length > 8 * 1024 * 1024) this.carry = "";
    for (const line of parts) {
      if (line.trim() === "") continue;
      try {
        const msg: unknown = JSON.parse(line);
        if (typeof msg !== "object" || msg === null || Array.isArray(msg)) continue;
        changed = applyStreamLine(this.progress, msg as Record<string, unknown>) || changed;
        const refused = this.refusals.read(msg as Record<string, unknown>);
        this.fresh.push(...refused);
        changed ||= refused.length > 0;
      } catch {
        // not a stream-json line (e.g. a warning printed by the CLI): skip
      }
    }
    return changed;
  }
}
