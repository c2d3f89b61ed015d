// Hook calls the daemon missed while it was down (an HTTP hook that cannot connect is lost), read
// back from the session's transcript: at a session's first HTTP hook call since this daemon started,
// after the reply, the tool calls the transcript shows after the last one the record has are
// recorded as `hook.recovered` events, once. Only HTTP calls are ever lost (the shim writes the
// fallback log, whose events carry no tool call id), so a session whose hooks all go through the
// shim is never read. What the record covers of a session is kept in the
// record itself (each hook event's `toolUseId`, each recovered event's `upto`), so a restarted
// daemon — replaying the whole history or a snapshot — recovers nothing twice.
import type { EventInput, EventRecord } from "../../src/protocol/events.js";
import type { HookInput } from "../../src/protocol/hooks.js";
import { callsInLines, readTranscriptTail, TRANSCRIPT_TAIL_BYTES, type TranscriptCall } from "./transcript-tail.js";

/** The event a recovered tool call is recorded as. */
export const RECOVERED_TYPE = "hook.recovered";
/** Most calls recorded for one gap (the latest ones): a bound on one recovery's append. */
export const MAX_RECOVERED = 1_000;

/** What the record says of a session: when its latest hook event is, and the latest tool call it covers. */
export interface SessionMark {
  lastMs: number;
  toolUseId?: string;
  /**
   * The latest tool call the shim wrote to the fallback log while the daemon was down (the shim
   * transport): such events carry no tool call id, but are in the record, so no call made before it
   * is missed.
   */
  fallbackMs?: number;
}

/**
 * The calls of `calls` (a transcript's, in order) the record lacks: those after the one `mark`
 * names when the transcript still holds it, else those made after the record's latest event of the
 * session; only calls that were answered (they ran, or were refused), and none this daemon has seen.
 */
export function missedCalls(calls: TranscriptCall[], mark: SessionMark, seen: ReadonlySet<string>): TranscriptCall[] {
  const i = mark.toolUseId === undefined ? -1 : calls.findIndex((c) => c.toolUseId === mark.toolUseId);
  const after = i >= 0 ? calls.slice(i + 1) : calls.filter((c) => c.at !== undefined && (Date.parse(c.at) || 0) > mark.lastMs);
  const fallbackMs = mark.fallbackMs ?? 0;
  return after.filter((c) => c.answered && !seen.has(c.toolUseId) && !(c.at !== undefined && (Date.parse(c.at) || 0) <= fallbackMs));
}

/** The tool call a recorded hook event covers: a hook call's own, or how far a recovery went. */
function coveredCall(e: EventRecord): string | undefined {
  const id = e.type === RECOVERED_TYPE ? e.payload.upto : e.payload.toolUseId;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** A session whose recovery is under way: the tool calls its hooks named since (the latest last). */
interface Pending {
  seen: Set<string>;
  latest?: string;
}

export interface RecoveryDeps {
  append: (events: EventInput[]) => Promise<unknown>;
  log: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** @default TRANSCRIPT_TAIL_BYTES */
  maxBytes?: number;
}

/** Per session: the record's mark until its first hook call this run, then one recovery. */
export class TranscriptRecovery {
  /** Per session not yet checked: its latest hook event's time (ISO) and the latest call covered. */
  private readonly marks = new Map<string, { ts: string; toolUseId: string | undefined; fallbackTs?: string }>();
  /** Sessions whose first call this run came: their recovery while it runs, then null. */
  private readonly checked = new Map<string, Pending | null>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: RecoveryDeps) {}

  /**
   * Feeds every durable event (replayed and live): the marks of sessions not yet checked. Cheap on
   * purpose, as it sees a whole history at start: the time is kept as written, parsed when used.
   */
  observe(e: EventRecord): void {
    if (!e.type.startsWith("hook.") || !e.session || this.checked.has(e.session)) return;
    const id = coveredCall(e);
    let mark = this.marks.get(e.session);
    if (!mark) this.marks.set(e.session, (mark = { ts: e.ts, toolUseId: id }));
    if (e.ts > mark.ts) mark.ts = e.ts;
    if (id) mark.toolUseId = id;
    if (e.source === "fallback" && typeof e.payload.tool === "string" && !(mark.fallbackTs && mark.fallbackTs >= e.ts)) mark.fallbackTs = e.ts;
  }

  /**
   * A hook call arrived (before it is recorded). The first over HTTP (`cpwd_via`, set by the HTTP
   * endpoint) of a session the record knows starts its recovery on the next turn of the event loop
   * — the call's reply never waits for it; later ones while it runs are noted so it does not record them.
   */
  noteCall(input: HookInput, worker: string | undefined): void {
    const session = input.session_id;
    if (typeof session !== "string" || session === "") return;
    const id = typeof input.tool_use_id === "string" && input.tool_use_id !== "" ? input.tool_use_id : undefined;
    const pending = this.checked.get(session);
    if (pending !== undefined) {
      if (pending && id) (pending.seen.add(id), (pending.latest = id));
      return;
    }
    if (input.cpwd_via !== "http") return;
    const seen = this.marks.get(session);
    this.marks.delete(session);
    // A session the record has never heard of missed nothing cpwd was meant to see.
    if (!seen || typeof input.transcript_path !== "string") return void this.checked.set(session, null);
    const mark: SessionMark = {
      lastMs: Date.parse(seen.ts) || 0,
      ...(seen.toolUseId ? { toolUseId: seen.toolUseId } : {}),
      ...(seen.fallbackTs ? { fallbackMs: Date.parse(seen.fallbackTs) || 0 } : {}),
    };
    const p: Pending = { seen: new Set(id ? [id] : []), ...(id ? { latest: id } : {}) };
    this.checked.set(session, p);
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.recover(session, input.transcript_path as string, mark, p, worker))
      .catch((err: unknown) => this.deps.log.warn({ err, session }, "recovering hook calls from the transcript failed"))
      .finally(() => {
        this.checked.set(session, null);
        this.running.delete(run);
      });
    this.running.add(run);
  }

  /** Forgets a session gone for good (the hook service's sweep); a recovery still running keeps it. */
  forget(session: string): void {
    this.marks.delete(session);
    if (this.checked.get(session) === null) this.checked.delete(session);
  }

  private async recover(session: string, path: string, mark: SessionMark, p: Pending, worker: string | undefined): Promise<void> {
    const lines = await readTranscriptTail(path, this.deps.maxBytes ?? TRANSCRIPT_TAIL_BYTES, mark.lastMs);
    if (lines === null) return this.deps.log.debug({ session, path }, "no transcript to recover hook calls from");
    let missed = missedCalls(callsInLines(lines, session), mark, p.seen);
    if (missed.length === 0) return;
    if (missed.length > MAX_RECOVERED) {
      this.deps.log.warn({ session, missed: missed.length, kept: MAX_RECOVERED }, "too many missed tool calls in the transcript; recording the latest");
      missed = missed.slice(-MAX_RECOVERED);
    }
    // Read at append time: a call recorded while the transcript was read is covered too.
    const upto = p.latest ?? missed.at(-1)!.toolUseId;
    await this.deps.append(missed.map((c) => recoveredEvent(c, session, worker, upto)));
    this.deps.log.debug({ session, recovered: missed.length }, "recovered missed hook calls from the transcript");
  }

  /** Waits for the recoveries under way (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

/** A missed tool call as the record keeps it: content-free, as a hook call's summary. */
function recoveredEvent(c: TranscriptCall, session: string, worker: string | undefined, upto: string): EventInput {
  return {
    type: RECOVERED_TYPE,
    source: "daemon",
    session,
    ...(worker ? { worker } : {}),
    payload: {
      tool: c.tool,
      toolUseId: c.toolUseId,
      ...(c.filePath ? { filePath: c.filePath } : {}),
      ...(c.at ? { at: c.at } : {}),
      ...(c.isError !== undefined ? { isError: c.isError } : {}),
      recovered: true,
      from: "transcript",
      upto,
    },
  };
}
