// CLI and idle figures: `cpwd status` against `node -e 0`, `cpwd status --json` against `pm2 jlist`
// with the same 3 sleeping workers, and the daemon's idle RSS against pm2's daemon, all in one run.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDE_BIN } from "../test/helpers/claude.js";
import { REPO, testEnv } from "../test/helpers/daemon.js";
import { against, ratioAtMost, sampleRssMiB, sleep, timedAgainst, timeRounds, withBenchDaemon, type Figure, type Target } from "./lib.js";
import { startPm2 } from "./pm2.js";

const ROUNDS = 21;
const WORKER_ARGV = ["sleep", "600"];
const SETTLE_MS = 15_000;
const ANEW_ROUNDS = 5;


/**
 * The `cpwd` command as installed: package.json's bin entry. CPWD_BENCH_CLI (a path in the
 * repository, e.g. dist/cli/main.cjs) measures another entry instead.
 */
function cpwdEntry(): string {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { bin: { cpwd: string } };
  return process.env.CPWD_BENCH_CLI || pkg.bin.cpwd;
}

export function benchCli(): Promise<Figure[]> {
  const entry = cpwdEntry();
  const cli = join(REPO, entry);
  return withBenchDaemon({}, async (d) => {
    const home = d.home;
    const pm2 = startPm2();
    try {
      // Both daemons freshly started and given the same time to settle: V8's memory reducer gives
      // back start-up garbage ~9 s after start (cpwd 69 → 59 MiB, pm2 57 → 53 MiB, sampled each
      // second), so an earlier reading measures the start-up, not the idle daemon.
      await sleep(SETTLE_MS);
      const [cpwdIdle, pm2Idle] = await sampleRssMiB([d.pid, pm2.pid]);

      const c = await d.client();
      const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === "string"));
      for (let i = 1; i <= 3; i++) {
        await c.call("worker.spawn", { argv: WORKER_ARGV, name: `bench-${i}`, cwd: process.cwd(), env } as never);
        pm2.startApp(`bench-${i}`, WORKER_ARGV);
      }
      for (;;) {
        const { workers } = await c.call("worker.list");
        if (workers.filter((w) => w.state === "running").length === 3) break;
        await sleep(20);
      }
      c.close();

      // The real Claude Code for `claude agents --json` (the tests' environment names a stand-in).
      const cliEnv = testEnv(home, { CPWD_LOG_LEVEL: "warn", CPWD_CLAUDE_BIN: CLAUDE_BIN });
      const t = timeRounds(
        {
          baseline: { argv: [process.execPath, "-e", "0"] },
          status: { argv: [process.execPath, cli, "status"], env: cliEnv },
          statusJson: { argv: [process.execPath, cli, "status", "--json"], env: cliEnv },
          jlist: pm2.cmd("jlist"),
        },
        ROUNDS,
      );
      // Each status reads Claude Code's background sessions (`claude agents --json`), reusing a
      // reading saved in the last 5 s: the rounds above run closer together than that, so most
      // reuse it. What a status pays when it takes the reading anew, in rounds of its own (the
      // saved reading removed first, by a shell that then execs the CLI).
      const saved = join(home, "claude-agents.json");
      const anew = timeRounds(
        {
          baseline: { argv: [process.execPath, "-e", "0"] },
          status: { argv: ["/bin/sh", "-c", 'rm -f "$0"; exec "$1" "$2" status', saved, process.execPath, cli], env: cliEnv },
          agents: { argv: [CLAUDE_BIN, "agents", "--json"], env: cliEnv },
        },
        ANEW_ROUNDS,
      );
      const [cpwd3, pm23] = await sampleRssMiB([d.pid, pm2.pid]);
      const nodeE0 = { key: "baseline", name: "node -e 0" };
      const belowPm2: Target = { of: "ratio", op: "<", limit: 1, text: "below pm2's idle" };
      return [
        timedAgainst({ name: "`cpwd status`", target: ratioAtMost(1.25), issue: true, note: `3 workers, ${ROUNDS} paired rounds, ${entry}` }, t, "status", nodeE0),
        timedAgainst({ name: "`cpwd status --json` vs `pm2 jlist`", target: ratioAtMost(0.5), issue: true, note: "same 3 sleeping workers" }, t, "statusJson", { key: "jlist", name: `pm2 ${pm2.version} jlist` }),
        against({ name: "daemon RSS, idle", target: belowPm2, issue: true, note: `both fresh, 0 workers, ${SETTLE_MS / 1000} s settled` }, { value: cpwdIdle!, unit: "MiB" }, { name: "pm2 daemon idle", value: pm2Idle! }),
        timedAgainst({ name: "`cpwd status --json`", issue: false }, t, "statusJson", nodeE0),
        timedAgainst({ name: "`cpwd status`, reading `claude agents --json` anew", issue: false, note: `${ANEW_ROUNDS} paired rounds; at most once in 5 s; \`claude agents --json\` alone ${anew.ms.agents!.toFixed(0)} ms` }, anew, "status", nodeE0),
        against({ name: "daemon RSS, 3 sleeping workers", issue: false }, { value: cpwd3!, unit: "MiB" }, { name: "pm2 daemon, same 3", value: pm23! }),
      ];
    } finally {
      pm2.kill();
    }
  });
}
