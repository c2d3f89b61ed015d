// `cpwd events [--from SEQ] [--limit N] [--type T] [--json]`: prints events from the daemon's log,
// 100 at a time by default, saying where to go on when there are more.
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";

function toInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--${name} must be a whole number ≥ 0 (got ${String(value)})`);
  return n;
}

export const run: Command = async (argv, ctx) => {
  const { flags } = parseArgs(argv, {
    from: { kind: "string" },
    limit: { kind: "string", short: "n" },
    type: { kind: "string" },
    json: { kind: "bool" },
  });
  const fromSeq = toInt("from", flags.from, 0);
  const limit = toInt("limit", flags.limit, 100);
  return withDaemon(ctx, async (client) => {
    const r = await client.call("events.read", { fromSeq, limit, ...(typeof flags.type === "string" ? { type: flags.type } : {}) });
    for (const e of r.events) {
      if (flags.json) writeLine(ctx.stdout, JSON.stringify(e));
      else {
        const who = [e.worker, e.session].filter(Boolean).join(" ");
        writeLine(ctx.stdout, `${String(e.seq).padStart(6)} ${String(e.ts)} ${String(e.type).padEnd(18)} ${who} ${JSON.stringify(e.payload)}`);
      }
    }
    // More in the log than one read returns: say how to go on (on stderr, so --json stays clean).
    if (r.nextSeq <= r.lastSeq) {
      const same = [typeof flags.type === "string" ? ` --type ${flags.type}` : "", flags.limit !== undefined ? ` --limit ${limit}` : "", flags.json ? " --json" : ""].join("");
      writeLine(ctx.stderr, `… more may follow: cpwd events --from ${r.nextSeq}${same} (last seq ${r.lastSeq})`);
    }
    return 0;
  });
};
