// A Supervisor shell on the fakes (test/helpers/fakes.ts): a temp home, a fake clock, an
// in-memory log and a fake runner, started fresh for each test and closed and removed after it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "node:test";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
import type { EventInput } from "../../src/protocol/events.js";
import { FakeClock, FakeRunner, fakeContext, MemoryLog } from "./fakes.js";

/** What each test gets; read its fields inside the test (they are new for every test). */
export interface FakeSupervisor<L extends MemoryLog> {
  home: string;
  clock: FakeClock;
  log: L;
  runner: FakeRunner;
  sup: Supervisor;
}

/**
 * Registers a beforeEach that starts a Supervisor with no past records (random fixed at 0.5) on a
 * fresh home, clock, runner and the log `makeLog` builds, and an afterEach that closes it and
 * removes the home. Call it at the top of a test file.
 */
export function useFakeSupervisor<L extends MemoryLog = MemoryLog>(homePrefix: string, makeLog: (clock: FakeClock) => L = (clock) => new MemoryLog(clock) as L): FakeSupervisor<L> {
  const f = {} as FakeSupervisor<L>;
  beforeEach(async () => {
    f.home = mkdtempSync(join(tmpdir(), homePrefix));
    f.clock = new FakeClock();
    f.log = makeLog(f.clock);
    f.runner = new FakeRunner(f.clock);
    f.sup = await Supervisor.start({ ctx: fakeContext(f.home, f.clock, f.log), runner: f.runner, random: () => 0.5 }, []);
  });
  afterEach(async () => {
    await f.sup?.close();
    rmSync(f.home, { recursive: true, force: true });
  });
  return f;
}

/** What a test of a restarted supervisor gets: its home, clock, log, runner and supervisor. */
export interface RestartedSupervisor<R extends FakeRunner> extends FakeSupervisor<MemoryLog> {
  runner: R;
}

/**
 * A daemon restarted on `history`: a fresh home (`before` may write files in it first), a fake
 * clock, the history in an in-memory log, and a Supervisor started over it (random fixed at 0.5)
 * with the runner `makeRunner` builds. Runs `body`, then closes the supervisor and removes the home.
 */
export async function withRestartedSupervisor<R extends FakeRunner>(
  opts: { homePrefix: string; history: EventInput[]; makeRunner: (clock: FakeClock) => R; before?: (home: string, clock: FakeClock, log: MemoryLog) => void },
  body: (f: RestartedSupervisor<R>) => Promise<void>,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), opts.homePrefix));
  const clock = new FakeClock();
  const log = new MemoryLog(clock);
  await log.append(opts.history);
  opts.before?.(home, clock, log);
  const runner = opts.makeRunner(clock);
  const sup = await Supervisor.start({ ctx: fakeContext(home, clock, log), runner, random: () => 0.5 }, [...log.records]);
  try {
    await body({ home, clock, log, runner, sup });
  } finally {
    await sup.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** A plain job's spec: run once, no restarts. */
export const JOB_SPEC = { argv: ["job"], cwd: "/", name: null, timeoutMs: null, graceMs: 5_000, restart: { mode: "never", maxRestarts: 5, windowMs: 600_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000, minUptimeMs: 30_000 }, meta: {} };

/** The record a daemon killed during `id`'s first launch leaves: queued, starting, no more. */
export function interruptedLaunch(id: string): EventInput[] {
  return [
    { type: "worker.queued", worker: id, payload: { spec: JOB_SPEC } },
    { type: "worker.starting", worker: id, payload: { attempt: 0 } },
  ];
}
