// `cpwd events`: the record, read from disk (events.jsonl and its closed segments, in seq order) —
// the last 20 events (`-n N`, as tail), or a page from `--from SEQ` — filtered by type (exact, `prefix.` or a glob `worker.*`), worker
// (an id or a name) and session; `--follow` then streams new events as the daemon commits them,
// through an `events.subscribe` subscription. The reading needs no daemon: with it down, this says
// so and prints what is on disk; only --follow needs it.
import { readRecord, typeMatches } from "../../src/eventlog/read.js";
import { readRecordTail } from "../../src/eventlog/tail.js";
import type { EventFilter } from "../../src/eventlog/event-filter.js";
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { connect } from "../../src/rpc/client.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths, EXIT_NOT_RUNNING } from "../daemon-client.js";
import { EventFeed } from "../event-feed.js";

/** Events shown without --from, and a page's size with it. */
const DEFAULT_TAIL = 20;
const DEFAULT_PAGE = 100;

function toInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--${name} must be a whole number ≥ 0 (got ${String(value)})`);
  return n;
}

/** A `--type` argument: what the daemon can filter on (exact or `prefix.`), and the full test. */
export interface TypePattern {
  server: string | undefined;
  test(type: string): boolean;
}

/**
 * `worker.exited` is exact and `worker.` a prefix, as the daemon reads them; with a `*` it is a
 * glob (`worker.*`, `*.exited`, `claim*`), of which the daemon gets the literal part before the
 * first `*` up to its last '.', and the rest is tested here.
 */
export function typePattern(arg: string | undefined): TypePattern {
  if (arg === undefined || arg === "" || arg === "*") return { server: undefined, test: () => true };
  if (!arg.includes("*")) return { server: arg, test: (t) => typeMatches(t, arg) };
  const literal = arg.slice(0, arg.indexOf("*"));
  const prefix = literal.slice(0, literal.lastIndexOf(".") + 1);
  const re = new RegExp(`^${arg.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return { server: prefix === "" ? undefined : prefix, test: (t) => re.test(t) };
}

/** What `--worker` names: an id, or a name whose ids are learned from `worker.queued` events. */
class WorkerMatch {
  readonly ids = new Set<string>();
  constructor(readonly arg: string) {
    if (/^W\d+$/.test(arg)) this.ids.add(arg);
  }

  get isName(): boolean {
    return !/^W\d+$/.test(this.arg);
  }

  /** Notes a worker that took the name; call on every event, in order, before `matches`. */
  learn(e: EventRecord): void {
    if (!this.isName || e.type !== "worker.queued" || !e.worker) return;
    const spec = e.payload.spec as { name?: unknown } | undefined;
    if (spec?.name === this.arg) this.ids.add(e.worker);
  }

  matches(e: EventRecord): boolean {
    return e.worker !== undefined && this.ids.has(e.worker);
  }
}

function formatEvent(e: EventRecord, json: boolean): string {
  if (json) return JSON.stringify(e);
  const who = [e.worker, e.session].filter(Boolean).join(" ");
  return `${String(e.seq).padStart(6)} ${String(e.ts)} ${String(e.type).padEnd(18)} ${who} ${JSON.stringify(e.payload)}`;
}

/** Is a daemon answering? Says so on stderr when it is not. */
async function daemonUp(ctx: CliContext, socket: string, home: string): Promise<boolean> {
  try {
    (await connect(socket, { connectTimeoutMs: 1_000 })).close();
    return true;
  } catch (err) {
    if (!isCpwdError(err, ErrorCode.DaemonNotRunning, ErrorCode.ConnectTimeout)) throw err;
    writeLine(ctx.stderr, `cpwd events: the daemon is not running (home ${home}); reading the record on disk`);
    return false;
  }
}

/** What the command line asked for, checked. */
interface EventsOptions {
  from: number | undefined;
  lines: number | undefined;
  follow: boolean;
  json: boolean;
  /** The raw `--type`, echoed back in the "more may follow" hint. */
  typeArg: string | undefined;
  type: TypePattern;
  worker: WorkerMatch | null;
  session: string | undefined;
}

function parseEventsArgs(argv: string[]): EventsOptions {
  const { flags, positionals } = parseArgs(argv, {
    from: { kind: "string" },
    lines: { kind: "string", short: "n" },
    limit: { kind: "string" },
    type: { kind: "string" },
    worker: { kind: "string" },
    session: { kind: "string" },
    follow: { kind: "bool", short: "f" },
    json: { kind: "bool" },
  });
  if (positionals.length > 0) throw usageError(`unexpected argument ${positionals[0]}`);
  return {
    from: toInt("from", flags.from),
    lines: toInt("lines", flags.lines) ?? toInt("limit", flags.limit),
    follow: flags.follow === true,
    json: flags.json === true,
    typeArg: flags.type === undefined ? undefined : String(flags.type),
    type: typePattern(flags.type as string | undefined),
    worker: typeof flags.worker === "string" ? new WorkerMatch(flags.worker) : null,
    session: typeof flags.session === "string" ? flags.session : undefined,
  };
}

/** Does an event pass every filter? (A worker name's ids must have been learned first.) */
function wantedBy(o: EventsOptions): (e: EventRecord) => boolean {
  return (e) => o.type.test(e.type) && (o.worker === null || o.worker.matches(e)) && (o.session === undefined || e.session === o.session);
}

/**
 * Prints one page from `--from` (without --follow). When the log holds more than a page, says how
 * to go on — on stderr, so --json stays clean.
 */
async function printPage(ctx: CliContext, eventsPath: string, o: EventsOptions & { from: number }, print: (e: EventRecord) => void): Promise<void> {
  const wanted = wantedBy(o);
  const limit = o.lines ?? DEFAULT_PAGE;
  let shown = 0;
  let stoppedAt: number | null = null;
  for await (const e of readRecord(eventsPath, { fromSeq: o.from })) {
    if (!wanted(e)) continue;
    if (shown === limit) {
      stoppedAt = e.seq;
      break;
    }
    print(e);
    shown++;
  }
  if (stoppedAt === null) return;
  const same = [o.typeArg !== undefined ? ` --type ${o.typeArg}` : "", o.worker ? ` --worker ${o.worker.arg}` : "", o.session ? ` --session ${o.session}` : "", o.lines !== undefined ? ` --limit ${limit}` : "", o.json ? " --json" : ""].join("");
  writeLine(ctx.stderr, `… more may follow: cpwd events --from ${stoppedAt}${same} (last seq ${(await readRecordTail(eventsPath, 0)).lastSeq})`);
}

export const run: Command = async (argv, ctx) => {
  const o = parseEventsArgs(argv);
  const { worker, session } = o;
  const wanted = wantedBy(o);

  const paths = cliPaths(ctx);
  const up = await daemonUp(ctx, paths.socket, paths.home);
  if (worker?.isName) {
    for await (const e of readRecord(paths.events, { keepLine: (line) => line.includes('"worker.queued"') })) worker.learn(e);
    if (worker.ids.size === 0 && !o.follow) {
      writeLine(ctx.stderr, `cpwd events: no worker named ${worker.arg} in the record`);
      return 1;
    }
  }
  const print = (e: EventRecord): boolean => ctx.stdout.write(`${formatEvent(e, o.json)}\n`);

  // The first seq --follow streams from: everything after what was printed.
  let followFrom: number;
  if (o.from !== undefined && o.follow) {
    followFrom = o.from; // the subscription itself sends the record from there on
  } else if (o.from !== undefined) {
    await printPage(ctx, paths.events, { ...o, from: o.from }, print);
    return 0;
  } else {
    const tail = await readRecordTail(paths.events, o.lines ?? DEFAULT_TAIL, wanted);
    for (const e of tail.events) print(e);
    if (!o.follow) return 0;
    followFrom = tail.lastSeq + 1;
  }

  if (!up) {
    writeLine(ctx.stderr, "cpwd events: --follow needs the daemon; start it with `cpwd start`");
    return EXIT_NOT_RUNNING;
  }
  return followEvents(ctx, paths.socket, followFrom, { type: o.type.server, worker: worker?.isName ? undefined : worker?.arg, session }, (e) => {
    worker?.learn(e);
    return wanted(e) ? print(e) : true;
  });
};

/**
 * Streams events from `fromSeq` until the daemon goes away (exit 3, saying so). When stdout backs
 * up (a slow pipe), reading from the daemon pauses until it drains.
 */
async function followEvents(ctx: CliContext, socket: string, fromSeq: number, filter: EventFilter, show: (e: EventRecord) => boolean): Promise<number> {
  let waitingForDrain = false;
  const feed: EventFeed = new EventFeed({
    socketPath: socket,
    fromSeq,
    filter,
    onEvents: (events) => {
      let flowing = true;
      for (const e of events) flowing = show(e) && flowing;
      if (!flowing && !waitingForDrain) {
        waitingForDrain = true;
        feed.pause();
        ctx.stdout.once("drain", () => {
          waitingForDrain = false;
          feed.resume();
        });
      }
    },
  });
  if (!(await feed.open())) {
    writeLine(ctx.stderr, "cpwd events: the daemon is not running; start it with `cpwd start`");
    return EXIT_NOT_RUNNING;
  }
  await feed.ended;
  writeLine(ctx.stderr, "cpwd events: the daemon stopped; nothing more will follow");
  return EXIT_NOT_RUNNING;
}
