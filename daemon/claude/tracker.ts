// Follows the stream-json output of Claude workers while they run and records what matters —
// session id, turns, cost, error flag, the final result — as `worker.claude` events, which status
// and digests read back (and replay restores).
import type { EventLog } from "../../src/eventlog/append.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { FileFollower } from "./file-follower.js";
import { StreamParser, type ClaudeProgress } from "./stream-parser.js";

/** A Claude worker's progress as status shows it. (A type, not an interface, so it fits Record<string, unknown>.) */
export type ClaudeInfo = {
  sessionId: string | null;
  model: string | null;
  turns: number | null;
  costUsd: number | null;
  isError: boolean | null;
  subtype: string | null;
  result: string | null;
  done: boolean;
};

/** The payload recorded for a worker's Claude progress. Result capped for the record's sake. */
function toPayload(p: ClaudeProgress): Record<string, unknown> {
  return {
    sessionId: p.sessionId,
    model: p.model,
    turns: p.turns,
    costUsd: p.costUsd,
    isError: p.isError,
    subtype: p.subtype,
    durationMs: p.durationMs,
    result: p.result === null ? null : p.result.slice(0, 2_000),
    done: p.done,
  };
}

export class ClaudeTracker {
  private readonly info = new Map<string, ClaudeInfo>();
  private readonly followers = new Map<string, { follower: FileFollower; parser: StreamParser }>();

  constructor(
    private readonly log: EventLog,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Replay: the latest `worker.claude` payload per worker. */
  observe(e: EventRecord): void {
    if (e.type !== "worker.claude" || !e.worker) return;
    const p = e.payload as Partial<ClaudeInfo>;
    this.info.set(e.worker, {
      sessionId: p.sessionId ?? null,
      model: p.model ?? null,
      turns: p.turns ?? null,
      costUsd: p.costUsd ?? null,
      isError: p.isError ?? null,
      subtype: p.subtype ?? null,
      result: p.result ?? null,
      done: p.done ?? false,
    });
  }

  get(workerId: string): ClaudeInfo | undefined {
    return this.info.get(workerId);
  }

  /** Starts following a Claude worker's stdout (a restart of the worker starts over). */
  track(workerId: string, stdoutFile: string, logDir: string): void {
    this.untrack(workerId);
    const parser = new StreamParser();
    const follower = new FileFollower(stdoutFile, (text) => {
      if (!parser.push(text)) return;
      const payload = toPayload(parser.progress);
      this.log.append([{ type: "worker.claude", worker: workerId, payload }]).then(
        ([rec]) => rec && this.observe(rec),
        this.onError,
      );
    });
    this.followers.set(workerId, { follower, parser });
    follower.start(logDir);
  }

  /** Reads what is left and stops following (the worker ended). */
  untrack(workerId: string): void {
    const f = this.followers.get(workerId);
    if (!f) return;
    f.follower.drain();
    f.follower.close();
    this.followers.delete(workerId);
  }

  close(): void {
    for (const id of [...this.followers.keys()]) {
      this.followers.get(id)!.follower.close();
      this.followers.delete(id);
    }
  }
}
