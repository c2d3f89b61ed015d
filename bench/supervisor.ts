// Supervisor figures, measured from outside: spawn → running (from sending `worker.spawn` to its
// `worker.started` line appearing in events.jsonl) against a bare child_process.spawn of the same
// command, paired call by call; the daemon's RSS with 100 sleeping workers; the wrapper's RSS and
// the daemon's CPU while they sleep.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { against, median, onInterrupt, percentile, rssKiB, sampleRssMiB, sleep, valueAtMost, withBenchDaemon, type Figure } from "./lib.js";

const WORKERS = 100;

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

/** Follows events.jsonl as another reader would, noting when each worker's `worker.started` appears. */
class StartedWatcher {
  private offset = 0;
  private rest = "";
  private readonly seenAt = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();
  private readonly fd: number;
  private readonly watcher: FSWatcher;
  private readonly timer: NodeJS.Timeout;

  constructor(file: string) {
    this.fd = openSync(file, "r");
    this.watcher = watch(file, () => this.poll());
    // inotify is the fast path; the timer only makes sure nothing is missed.
    this.timer = setInterval(() => this.poll(), 5);
    this.poll();
  }

  /** One buffer for every read: a fresh 256 KiB each poll (every 5 ms and every inotify event) kept the bench's own GC busy while it timed. */
  private readonly buf = Buffer.allocUnsafe(256 * 1024);

  private poll(): void {
    const buf = this.buf;
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n === 0) break;
      this.offset += n;
      const now = performance.now();
      const text = this.rest + buf.toString("utf8", 0, n);
      const lines = text.split("\n");
      this.rest = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"type":"worker.started"')) continue;
        const worker = (JSON.parse(line) as { worker: string }).worker;
        this.seenAt.set(worker, now);
        this.waiters.get(worker)?.();
      }
    }
  }

  /** performance.now() when `worker.started` for `id` was first seen. */
  async started(id: string, timeoutMs = 10_000): Promise<number> {
    if (!this.seenAt.has(id)) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${id} not started in ${timeoutMs} ms`)), timeoutMs);
        this.waiters.set(id, () => {
          clearTimeout(t);
          resolve();
        });
      });
      this.waiters.delete(id);
    }
    return this.seenAt.get(id)!;
  }

  close(): void {
    this.watcher.close();
    clearInterval(this.timer);
    closeSync(this.fd);
  }
}

/**
 * Where a spawn's time goes, by the daemon's own clock (ms resolution; an event's `ts` is taken as
 * its commit begins): `worker.queued` → the wrapper spawned or handed its launch (`startedAtMs` in
 * `worker.started`: the record's write, the launch's file work, the hand-over to a wrapper started
 * ahead or the spawn call; the fdatasync runs meanwhile), → `worker.started` (the wrapper starting
 * the worker and reporting its pid, `worker.queued` durable; then `worker.starting` and
 * `worker.started` are committed together). Each list sorted.
 */
function stepGaps(file: string, ids: Set<string>): { queuedToSpawn: number[]; spawnToStarted: number[] } {
  const at = new Map<string, { queued?: number; started?: number; spawnedAt?: number }>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.includes('"type":"worker.')) continue;
    const e = JSON.parse(line) as { type: string; worker: string; ts: string; payload: { startedAtMs?: number } };
    if (!ids.has(e.worker)) continue;
    const rec = at.get(e.worker) ?? {};
    const ts = Date.parse(e.ts);
    if (e.type === "worker.queued") rec.queued ??= ts;
    if (e.type === "worker.started") {
      rec.started ??= ts;
      rec.spawnedAt ??= e.payload.startedAtMs;
    }
    at.set(e.worker, rec);
  }
  const out = { queuedToSpawn: [] as number[], spawnToStarted: [] as number[] };
  for (const r of at.values()) {
    if (r.queued === undefined || r.started === undefined || r.spawnedAt === undefined) continue;
    out.queuedToSpawn.push(r.spawnedAt - r.queued);
    out.spawnToStarted.push(r.started - r.spawnedAt);
  }
  for (const xs of Object.values(out)) xs.sort((a, b) => a - b);
  return out;
}

/** ms from calling child_process.spawn to its 'spawn' event: the floor for starting a process. */
async function bareSpawnMs(argv: string[], keep: ChildProcess[]): Promise<number> {
  const t0 = performance.now();
  const p = spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
  keep.push(p);
  await new Promise<void>((resolve, reject) => {
    p.once("spawn", resolve);
    p.once("error", reject);
  });
  return performance.now() - t0;
}

export function benchSupervisor(): Promise<Figure[]> {
  return withBenchDaemon({ config: { maxParallel: 200 } }, async (d) => {
    const bare: ChildProcess[] = [];
    const killBare = (): void => void bare.forEach((b) => b.kill("SIGKILL"));
    const forget = onInterrupt(killBare);
    const tail = new StartedWatcher(d.paths.events);
    try {
      const c = await d.client();
      // Settled as the cli section's idle figure is (past V8's memory reducer), so they compare.
      await sleep(15_000);
      const [idle] = await sampleRssMiB([d.pid]);

      const argv = ["sleep", "600"];
      const spec = { argv, cwd: "/", env: { PATH: process.env.PATH ?? "" } };
      const lat: number[] = [];
      const ack: number[] = [];
      const floor: number[] = [];
      const ids: string[] = [];
      // One at a time, each paired with a bare spawn: latency, not a burst's queueing.
      for (let i = 0; i < WORKERS; i++) {
        floor.push(await bareSpawnMs(argv, bare));
        bare.at(-1)!.kill("SIGKILL");
        const t0 = performance.now();
        const { worker } = await c.call("worker.spawn", spec as never);
        ack.push(performance.now() - t0);
        lat.push((await tail.started(String(worker.id))) - t0);
        ids.push(String(worker.id));
      }
      lat.sort((a, b) => a - b);
      floor.sort((a, b) => a - b);
      ack.sort((a, b) => a - b);

      const gaps = stepGaps(d.paths.events, new Set(ids));
      /** The wrapper's RSS plus its helpers': everything a worker costs but itself. */
      const wrapperKiB = (id: string): number => {
        const run = JSON.parse(readFileSync(join(d.paths.workers, id, "run.json"), "utf8")) as { pid: number; wrapperPid: number };
        const helpers = children(run.wrapperPid).filter((p) => p !== run.pid).flatMap((p) => [p, ...children(p)]);
        return [run.wrapperPid, ...helpers].reduce((a, p) => a + rssKiB(p), 0);
      };
      const perWrapper = median(ids.map(wrapperKiB)) / 1024;
      /** How many of the launches a wrapper started ahead took (its command line says `--warm`). */
      const warm = ids.filter((id) => {
        const run = JSON.parse(readFileSync(join(d.paths.workers, id, "run.json"), "utf8")) as { wrapperPid: number };
        try {
          return readFileSync(`/proc/${run.wrapperPid}/cmdline`, "utf8").split("\0").includes("--warm");
        } catch {
          return false;
        }
      }).length;

      // Idle CPU with them all sleeping, after the spawn burst's JIT and GC settle, and each log
      // check's delay has grown from 0.1 s to its 2 s (log-rotation-scheduler.ts); then the RSS.
      // 3 s read 0.9-2.6 % here where the same daemon 8-15 s after the burst reads 0.35-0.6 %.
      await sleep(10_000);
      const t0 = cpuTicks(d.pid);
      const windowMs = 10_000;
      await sleep(windowMs);
      const cpuPct = ((cpuTicks(d.pid) - t0) * 10 * 100) / windowMs;
      const [with100] = await sampleRssMiB([d.pid]);
      await c.call("worker.kill", { target: "all" });
      c.close();

      const p = (xs: number[], q: number) => percentile(xs, q);
      return [
        against({ name: "spawn → running p50", target: valueAtMost(5, "ms"), issue: true, note: `${WORKERS} spawns one at a time, \`sleep 600\`` }, { value: p(lat, 50), unit: "ms" }, { name: "bare child_process.spawn p50", value: p(floor, 50) }),
        against({ name: "spawn → running p99", target: valueAtMost(20, "ms"), issue: true }, { value: p(lat, 99), unit: "ms" }, { name: "bare spawn p99", value: p(floor, 99) }),
        against({ name: "daemon RSS, 100 sleeping workers", target: valueAtMost(80, "MiB"), issue: true }, { value: with100!, unit: "MiB" }, { name: "same daemon idle", value: idle! }),
        {
          name: "spawn steps p50, by the record's timestamps",
          value: p(gaps.queuedToSpawn, 50) + p(gaps.spawnToStarted, 50),
          unit: "ms",
          issue: false,
          note: `queued → wrapper spawned or handed the launch ${p(gaps.queuedToSpawn, 50)} ms (the record's write, the launch's file work), → started ${p(gaps.spawnToStarted, 50)} ms (the wrapper starting the worker, the queued record's fdatasync); ${warm} of ${ids.length} launches taken by a wrapper started ahead`,
        },
        { name: "`worker.spawn` reply p50", value: p(ack, 50), unit: "ms", issue: false, note: `p99 ${p(ack, 99).toFixed(1)} ms; replies once \`worker.queued\` is durable` },
        { name: "wrapper RSS per worker (median)", value: perWrapper, unit: "MiB", issue: false, note: "earlier target ≤ 5 MiB" },
        { name: "daemon CPU, 100 sleeping workers", value: cpuPct, unit: "%", issue: false, note: "10 s after 10 s settling; earlier target < 1 %" },
      ];
    } finally {
      forget();
      tail.close();
      killBare();
    }
  });
}
