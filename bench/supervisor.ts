// Supervisor figures: spawn → started latency, the daemon's RSS idle and with 100 running workers,
// the wrapper's RSS per worker (with and without a deadline), and the daemon's CPU while 100
// workers sleep.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, startDaemon, tempHome } from "../test/helpers/daemon.js";
import { median, percentile, type Row } from "./lib.js";

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
/** CPU time (user + system) of a process in clock ticks. */
const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
};

export async function benchSupervisor(): Promise<Row[]> {
  const home = tempHome();
  writeFileSync(join(home, "config.json"), JSON.stringify({ maxParallel: 200 }));
  const d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
  const rows: Row[] = [];
  try {
    const c = await d.client();
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rssKiB(d.pid);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { worker } = await c.call("worker.spawn", { argv: ["sleep", "600"], cwd: "/", env: { PATH: process.env.PATH ?? "" } } as never);
      ids.push(String(worker.id));
    }
    // Wait until all run, then read the latency from the event log's own clock.
    for (;;) {
      const { workers } = await c.call("worker.list");
      if (workers.filter((w) => w.state === "running").length === 100) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const events = readFileSync(d.paths.events, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const queuedAt = new Map(events.filter((e) => e.type === "worker.queued").map((e) => [e.worker, Date.parse(e.ts)]));
    const lat = events.filter((e) => e.type === "worker.started").map((e) => Date.parse(e.ts) - queuedAt.get(e.worker)!).sort((a, b) => a - b);
    rows.push({ name: "worker.spawn → worker.started p50 (100 spawns)", value: percentile(lat, 50), unit: "ms", note: `p99 ${percentile(lat, 99)} ms` });
    await new Promise((r) => setTimeout(r, 1_000));
    rows.push({ name: "daemon RSS, idle", value: Math.round(idleRss / 1024), unit: "MiB" });
    rows.push({ name: "daemon RSS, 100 running workers", value: Math.round(rssKiB(d.pid) / 1024), unit: "MiB" });
    /** The wrapper's RSS plus its helpers' (the deadline's sleep): everything a worker costs but itself. */
    const wrapperKiB = (id: string): number => {
      const run = JSON.parse(readFileSync(join(d.paths.workers, id, "run.json"), "utf8")) as { pid: number; wrapperPid: number };
      const helpers = children(run.wrapperPid).filter((p) => p !== run.pid).flatMap((p) => [p, ...children(p)]);
      return [run.wrapperPid, ...helpers].reduce((a, p) => a + rssKiB(p), 0);
    };
    const perWrapper = ids.map(wrapperKiB);
    rows.push({ name: "wrapper RSS per worker (median)", value: Math.round((median(perWrapper) / 1024) * 100) / 100, unit: "MiB", note: "target ≤ 5 MiB" });
    // Workers with a deadline: the wrapper also keeps a `sleep` for it. Ten of them, gone again
    // before the idle CPU is measured over the 100 above.
    const timed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { worker } = await c.call("worker.spawn", { argv: ["sleep", "600"], cwd: "/", env: { PATH: process.env.PATH ?? "" }, timeoutMs: 600_000 } as never);
      timed.push(String(worker.id));
    }
    for (;;) {
      const { workers } = await c.call("worker.list");
      if (workers.filter((w) => timed.includes(String(w.id)) && w.state === "running").length === timed.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    const perTimed = timed.map(wrapperKiB);
    rows.push({ name: "wrapper RSS per worker with --timeout (median)", value: Math.round((median(perTimed) / 1024) * 100) / 100, unit: "MiB", note: "target ≤ 5 MiB" });
    for (const id of timed) await c.call("worker.kill", { target: id });
    // Let start-up work (JIT, GC of the spawn burst) settle before measuring the idle cost.
    await new Promise((r) => setTimeout(r, 5_000));
    const t0 = cpuTicks(d.pid);
    const windowMs = 20_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const ticks = cpuTicks(d.pid) - t0;
    rows.push({ name: "daemon CPU, 100 sleeping workers", value: Math.round(((ticks * 10) / windowMs) * 100 * 100) / 100, unit: "%", note: "over 20 s after 5 s settling (target < 1 %)" });
    await c.call("worker.kill", { target: "all" });
    c.close();
  } finally {
    await cleanup(d, home);
  }
  return rows;
}
