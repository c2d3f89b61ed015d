// The supervisor's RPC handlers: targets (id, name, all) resolved here, the work in supervisor.ts.
import { statSync } from "node:fs";
import { CpwdError, ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import { workerMethods } from "../../src/protocol/rpc-workers.js";
import type { MethodGroup } from "../rpc-table.js";
import type { Supervisor } from "./supervisor.js";
import type { WorkerUsage } from "./worker-usage.js";

/**
 * Refuses a cwd the worker could not start in, before the worker is given an id or recorded:
 * otherwise it would be queued and fail only at launch, with the OS's message. A stat from this
 * thread: a thread-pool round trip cost more than the stat (the launch checks the cwd so too).
 */
function checkCwd(cwd: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new CpwdError(ErrorCode.InvalidArgument, `cwd ${cwd} does not exist`);
    throw new CpwdError(ErrorCode.InvalidArgument, `cwd ${cwd} cannot be used (${code ?? (err as Error).message})`, { cause: err });
  }
  if (!isDir) throw new CpwdError(ErrorCode.InvalidArgument, `cwd ${cwd} is not a directory`);
}

/** The supervisor's methods; `usage` adds CPU and memory to `worker.get`'s running workers. */
export function workerMethodGroup(sup: Supervisor, usage?: WorkerUsage): MethodGroup<typeof workerMethods> {
  const each = async (target: string, fn: (id: string) => Promise<unknown>) => {
    const ids = sup.resolve(target);
    for (const id of ids) await fn(id);
    return { workers: ids.map((id) => sup.record(id)).filter((w) => w !== undefined).map((w) => sup.view(w)) };
  };
  return {
    specs: workerMethods,
    handlers: {
      "worker.spawn": async (spec) => {
        checkCwd(spec.cwd);
        return { worker: await sup.spawn(spec) };
      },
      "worker.list": () => ({ workers: sup.list() }),
      "worker.get": (p) => {
        const views = sup.resolve(p.target).map((id) => sup.view(sup.record(id)!));
        return { workers: usage ? usage.annotate(views) : views };
      },
      "worker.stop": (p) => each(p.target, (id) => sup.stop(id, p.graceMs)),
      "worker.kill": (p) => each(p.target, (id) => sup.kill(id)),
      "worker.restart": (p) => each(p.target, (id) => sup.restart(id)),
      "worker.rerun": async (p) => {
        const ids = p.target === "all" ? [] : sup.resolve(p.target);
        if (ids.length !== 1) throw new CpwdError(ErrorCode.InvalidArgument, `a rerun names one worker (an id like W3 or a name), not ${p.target}`);
        return { worker: await sup.rerun(ids[0]!, p.argv, p.meta) };
      },
      "worker.remove": async (p) => {
        const ids = sup.resolve(p.target);
        const removed: string[] = [];
        const notes: string[] = [];
        const failed: Array<{ id: string; code: string; message: string }> = [];
        for (const id of ids) {
          try {
            const r = await sup.remove(id, p.force);
            removed.push(r.id);
            notes.push(...r.notes);
          } catch (err) {
            // One worker that cannot go (running, without force) must not keep the others: each
            // is tried and each failure reported. A target naming one worker fails as that one did.
            if (ids.length === 1) throw err;
            failed.push({ id, code: isCpwdError(err) ? err.code : ErrorCode.Internal, message: (err as Error).message });
          }
        }
        return { removed, notes, failed };
      },
    },
  };
}
