// Hook shim figures: wall time of one PreToolUse call with the daemon up and with it down (the
// fallback path), each as a ratio to `node -e 0` in the same round, rounds interleaved.
import { rmSync } from "node:fs";
import { tempHome, testEnv } from "../test/helpers/daemon.js";
import { preWrite, SHIM } from "../test/helpers/shim.js";
import { keepRatio, onInterrupt, timedAgainst, timeRounds, withBenchDaemon, type Figure } from "./lib.js";

const ROUNDS = 21;

export function benchHooks(): Promise<Figure[]> {
  return withBenchDaemon({}, async (d) => {
    const downHome = tempHome("cpwd-bench-");
    const forget = onInterrupt(() => rmSync(downHome, { recursive: true, force: true }));
    try {
      const input = JSON.stringify(preWrite("bench-session", "/repo/src/a.ts"));
      const t = timeRounds(
        {
          baseline: { argv: [process.execPath, "-e", "0"] },
          up: { argv: [process.execPath, SHIM], env: testEnv(d.home, { CPWD_AUTOSTART: "0", CPWD_LOG_LEVEL: "warn" }), input },
          down: { argv: [process.execPath, SHIM], env: testEnv(downHome, { CPWD_AUTOSTART: "0", CPWD_LOG_LEVEL: "warn" }), input },
        },
        ROUNDS,
      );
      const nodeE0 = { key: "baseline", name: "node -e 0" };
      return [
        timedAgainst({ name: "hook shim, daemon up", target: keepRatio(1.18), issue: true, note: `PreToolUse Write, ${ROUNDS} paired rounds` }, t, "up", nodeE0),
        timedAgainst({ name: "hook shim, daemon down", target: keepRatio(1.15), issue: true, note: "fallback log" }, t, "down", nodeE0),
      ];
    } finally {
      forget();
      rmSync(downHome, { recursive: true, force: true });
    }
  });
}
