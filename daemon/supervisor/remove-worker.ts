// Forgetting a worker (`cpwd rm`): an ended one at once; with `force`, a running one is stopped
// first and its end awaited. Its lifecycle's notes (a worktree removed or kept), `worker.removed`,
// then its folder deleted.
import { rmSync } from "node:fs";
import { CpwdError, ErrorCode } from "../../src/protocol/errors.js";
import { FINAL_STATES } from "../../src/protocol/workers.js";
import type { Ledger } from "./ledger.js";
import type { WorkerLifecycle } from "./worker-lifecycle.js";

/** How long `rm --force` waits for a stopped worker's end to be recorded. */
const REMOVE_WAIT_MS = 30_000;

/** What removal needs of the supervisor. */
export interface RemovalParts {
  ledger: Ledger;
  dir(id: string): string;
  stop(id: string, graceMs: number): Promise<unknown>;
  lifecycle?: WorkerLifecycle | undefined;
}

/** Forgets an ended worker and deletes its folder; `force` stops a running one first. */
export async function removeWorker(p: RemovalParts, id: string, force: boolean): Promise<{ id: string; notes: string[] }> {
  const require = () => {
    const w = p.ledger.workers.get(id);
    if (!w) throw new CpwdError(ErrorCode.NotFound, `no worker ${id}`);
    return w;
  };
  const w = require();
  if (!FINAL_STATES.has(w.state)) {
    if (!force) throw new CpwdError(ErrorCode.InvalidState, `${id} is ${w.state}; stop it first, or use --force`);
    await p.stop(id, Math.min(w.graceMs, 2_000));
    // Woken by the commit that records its end, not by polling.
    await p.ledger.waitFor(id, (x) => !x || FINAL_STATES.has(x.state), REMOVE_WAIT_MS, `${id} did not stop within ${REMOVE_WAIT_MS} ms`);
  }
  return p.ledger.locked(async () => {
    const current = require();
    if (!FINAL_STATES.has(current.state)) throw new CpwdError(ErrorCode.InvalidState, `${id} is ${current.state}`);
    const notes = (await p.lifecycle?.removed?.(current)) ?? [];
    await p.ledger.commit([{ type: "worker.removed", worker: id, payload: {} }]);
    rmSync(p.dir(id), { recursive: true, force: true });
    return { id, notes };
  });
}
