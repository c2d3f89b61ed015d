// `cpwd stop|kill|restart|rm TARGET…`: a worker id (W3), a name, or `all`, for each action, and
// a line a worker saying what was done to it.
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";
import { parseDuration } from "../format/durations.js";

type Action = "stop" | "kill" | "restart" | "rm";

/**
 * What the action did to a worker, as its state after the call reads it: `restarting` (stopping
 * to start again, or queued), `killed` (SIGKILL sent), `stopping`; else the state it is in.
 */
function outcome(action: Action, state: string): string {
  if (action === "restart") return "restarting";
  if (action === "kill" && state === "stopping") return "killed";
  return state;
}

async function control(action: Action, argv: string[], ctx: CliContext): Promise<number> {
  // Mistakes in the call are usage errors: the entry point names the command and prints its usage.
  const parsed = parseArgs(argv, action === "stop" ? { grace: { kind: "string" } } : action === "rm" ? { force: { kind: "bool", short: "f" } } : {});
  const flags: Record<string, unknown> = parsed.flags;
  const targets = parsed.positionals;
  if (targets.length === 0) throw usageError("name at least one worker (W3, a name, or all)");
  if (flags.grace !== undefined) flags.graceMs = parseDuration("grace", flags.grace as string);
  return withDaemon(ctx, async (client) => {
    let code = 0;
    for (const target of targets) {
      try {
        if (action === "rm") {
          const r = await client.call("worker.remove", { target, force: flags.force === true });
          for (const id of r.removed) writeLine(ctx.stdout, `removed ${id}`);
          for (const note of r.notes) writeLine(ctx.stdout, note);
          for (const f of r.failed) writeLine(ctx.stderr, `cpwd rm ${f.id}: ${f.message}`);
          if (r.failed.length > 0) code = 1;
          continue;
        }
        const r =
          action === "stop"
            ? await client.call("worker.stop", { target, ...(typeof flags.graceMs === "number" ? { graceMs: flags.graceMs } : {}) })
            : action === "kill"
              ? await client.call("worker.kill", { target })
              : await client.call("worker.restart", { target });
        for (const w of r.workers) writeLine(ctx.stdout, `${String(w.id)} ${outcome(action, String(w.state))}`);
      } catch (err) {
        writeLine(ctx.stderr, `cpwd ${action} ${target}: ${(err as Error).message}`);
        code = 1;
      }
    }
    return code;
  });
}

export const stop: Command = (argv, ctx) => control("stop", argv, ctx);
export const kill: Command = (argv, ctx) => control("kill", argv, ctx);
export const restart: Command = (argv, ctx) => control("restart", argv, ctx);
export const rm: Command = (argv, ctx) => control("rm", argv, ctx);
