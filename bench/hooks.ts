// Hook shim figures: wall time of one hook call with the daemon up and with it down, as ratios to
// `node -e 0` measured in the same run, interleaved so machine noise hits all three alike.
import { rmSync } from "node:fs";
import { cleanup, startDaemon, tempHome, testEnv } from "../test/helpers/daemon.js";
import { preWrite, SHIM } from "../test/helpers/shim.js";
import { timeInterleaved, type Row } from "./lib.js";

export async function benchHooks(): Promise<Row[]> {
  const d = await startDaemon(undefined, { CPWD_LOG_LEVEL: "warn" });
  const downHome = tempHome();
  try {
    const input = JSON.stringify(preWrite("bench-session", "/repo/src/a.ts"));
    const t = timeInterleaved(
      {
        baseline: { argv: [process.execPath, "-e", "0"] },
        up: { argv: [process.execPath, SHIM], env: testEnv(d.home, { CPWD_AUTOSTART: "0" }), input },
        down: { argv: [process.execPath, SHIM], env: testEnv(downHome, { CPWD_AUTOSTART: "0" }), input },
      },
      21,
    );
    return [
      { name: "node -e 0 (baseline)", value: t.baseline!, unit: "ms", note: "median of 21, interleaved" },
      { name: "cpwd-hook, daemon up (PreToolUse Write)", value: t.up!, unit: "ms", note: `${(t.up! / t.baseline!).toFixed(2)}× node -e 0 (target ≤ 1.3×)` },
      { name: "cpwd-hook, daemon down (fallback)", value: t.down!, unit: "ms", note: `${(t.down! / t.baseline!).toFixed(2)}× node -e 0 (target ≤ 1.5×)` },
    ];
  } finally {
    await cleanup(d);
    rmSync(downHome, { recursive: true, force: true });
  }
}
