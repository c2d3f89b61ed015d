// A Supervisor shell on the fakes (test/helpers/fakes.ts): a temp home, a fake clock, an
// in-memory log and a fake runner, started fresh for each test and closed and removed after it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "node:test";
import { Supervisor } from "../../daemon/supervisor/supervisor.js";
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
