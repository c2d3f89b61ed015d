// How free the daemon's event loop stays while it spawns: a second connection pings about every
// millisecond while the first spawns `sleep 600` workers one at a time, 10 ms after each reply
// (docs/performance.md, "Spawn → running": the launch.sh unlink it found). Prints the pings'
// p50/p90/p99/max. Not part of `npm run bench`; to compare two builds, run it from each checkout
// in turn, interleaved:
//   node --import tsx bench/ping-during-spawns.ts [spawns]
import { percentile, sleep, withBenchDaemon } from "./lib.js";

const spawns = Number(process.argv[2] ?? 150);

await withBenchDaemon({ config: { maxParallel: spawns + 10 } }, async (d) => {
  const spawner = await d.client();
  const pinger = await d.client();
  await sleep(2_000);
  const spec = { argv: ["sleep", "600"], cwd: "/", env: { PATH: process.env.PATH ?? "" } };
  let done = false;
  const lat: number[] = [];
  const pinging = (async () => {
    while (!done) {
      const t0 = performance.now();
      await pinger.call("ping", {} as never);
      lat.push(performance.now() - t0);
      await sleep(1);
    }
  })();
  try {
    for (let i = 0; i < spawns; i++) {
      await spawner.call("worker.spawn", spec as never);
      await sleep(10);
    }
  } finally {
    done = true;
    await pinging;
    await spawner.call("worker.kill", { target: "all" });
    spawner.close();
    pinger.close();
  }
  lat.sort((a, b) => a - b);
  const p = (q: number) => percentile(lat, q).toFixed(3);
  console.log(`${lat.length} pings during ${spawns} spawns: p50 ${p(50)} ms, p90 ${p(90)} ms, p99 ${p(99)} ms, max ${lat.at(-1)!.toFixed(2)} ms`);
});
