// `cpwd doctor [--json] [--dir DIR]`: checks the machine, CPWD_HOME, the daemon, the record and
// Claude Code's settings, one line each with how to fix what is wrong. Works with the daemon down.
// Exit 0 when no check fails (warnings are advice), 1 otherwise.
import { resolve } from "node:path";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { gatherFacts, type CheckResult, type Doctor, type Finding } from "../doctor/check.js";
import { CHECKS } from "../doctor/checks.js";

/** Runs every check of the table; a check that throws is a failure of its own, not a crash. */
export async function runChecks(d: Doctor): Promise<CheckResult[]> {
  return Promise.all(
    CHECKS.map(async ({ name, run }) => {
      let finding: Finding;
      try {
        finding = await run(d);
      } catch (err) {
        finding = { status: "fail", message: `the check itself failed: ${(err as Error).message}`, fix: "run again with CPWD_DEBUG=1 and report it" };
      }
      return { name, ...finding };
    }),
  );
}

/** `warn  daemon: not running — `cpwd start``: one line a check. */
function formatResult(r: CheckResult, width: number): string {
  return `${r.status.padEnd(4)}  ${`${r.name}:`.padEnd(width + 1)} ${r.message}${r.fix ? ` — ${r.fix}` : ""}`;
}

function summary(results: CheckResult[]): string {
  const fails = results.filter((r) => r.status === "fail").length;
  const warns = results.filter((r) => r.status === "warn").length;
  if (fails + warns === 0) return "all well";
  const parts = [fails > 0 ? `${fails} failing` : "", warns > 0 ? `${warns} ${warns === 1 ? "warning" : "warnings"}` : ""].filter(Boolean);
  return `${parts.join(", ")}${fails > 0 ? "" : " (nothing failing)"}`;
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { json: { kind: "bool" }, dir: { kind: "string" } });
  if (positionals.length > 0) {
    throw usageError(`unexpected argument ${positionals[0]}`);
  }
  const paths = cliPaths(ctx);
  const d = await gatherFacts(ctx, paths, resolve(ctx.cwd, (flags.dir as string | undefined) ?? "."));
  const results = await runChecks(d);
  const healthy = results.every((r) => r.status !== "fail");
  if (flags.json) {
    writeLine(ctx.stdout, JSON.stringify({ ok: healthy, home: paths.home, checks: results }));
  } else {
    const width = Math.max(...results.map((r) => r.name.length));
    for (const r of results) writeLine(ctx.stdout, formatResult(r, width));
    writeLine(ctx.stdout, summary(results));
  }
  return healthy ? 0 : 1;
};
