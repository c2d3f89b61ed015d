// Paths of the tiny worker scripts in test/fixtures/workers/.
import { join } from "node:path";
import { REPO } from "./daemon.js";

export function fixture(name: string): string {
  return join(REPO, "test", "fixtures", "workers", name);
}

/** argv running a fixture with this node. */
export function nodeFixture(name: string, ...args: string[]): string[] {
  return [process.execPath, fixture(name), ...args];
}

/** Anything with the daemon's `call` (an RpcClient). */
interface Caller {
  call(method: string, params?: unknown): Promise<any>;
}

/**
 * A real worker that sleeps (60 s by default) and is running when this resolves: only a live
 * worker's edits claim files. The test's cleanup kills it with the rest.
 */
export async function liveWorker(c: Caller, name?: string, sleepMs = 60_000): Promise<string> {
  const { worker } = await c.call("worker.spawn", { argv: nodeFixture("sleep.js", String(sleepMs)), ...(name ? { name } : {}), cwd: "/", env: { PATH: process.env.PATH ?? "" } });
  const id = String(worker.id);
  for (let i = 0; i < 500; i++) {
    if ((await c.call("worker.get", { target: id })).workers[0]?.state === "running") return id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${id} did not reach running`);
}
