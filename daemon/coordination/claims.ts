// File claims: which worker holds which file. Pure: every operation takes `nowMs` and returns the
// events to record; the hook handler appends them and applies them with `apply`, which is also
// how replay rebuilds the table from the log.
import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";

export interface Claim {
  path: string;
  worker: string;
  session?: string;
  acquiredAtMs: number;
  touchedAtMs: number;
  /**
   * The holder's edits of the file whose outcome is not known yet (tool_use_ids). An edit that
   * was refused or failed leaves the set; when the last leaves, no edit happened and the claim
   * goes. Undefined: unknown (an edit without an id, or a claim from before a daemon restart,
   * whose later edits were not recorded): kept until its worker ends.
   */
  attempts?: Set<string>;
}

/** Who asks to edit a file: a worker (by id) or a conductor session (no worker id), with the tool call's id. */
export interface Requester {
  worker?: string;
  session?: string;
  toolUseId?: string;
}

export type ClaimDecision =
  | { kind: "allow"; events: EventInput[] }
  | { kind: "deny"; holder: Claim; events: EventInput[] };

/** Resolves symlinks in a path that exists; throws when it does not. */
export type Realpath = (path: string) => string;

/**
 * The claim key: one string per file however it is named. Relative paths resolve against the
 * hook's cwd; `.`, `..`, doubled and trailing separators go; symlinks in the part of the path that
 * exists are followed (a file about to be created is named through its real folder), so
 * `proj/link/a.ts` and `proj/src/a.ts` are one claim. The only file system access claims make.
 */
export function claimPath(file: string, cwd: string | undefined, realpath: Realpath = realpathSync.native): string {
  let abs = normalize(isAbsolute(file) ? file : resolve(cwd ?? "/", file));
  // The platform's own separators only: on POSIX a trailing backslash is part of a file name.
  while (abs.length > 1 && (abs.endsWith(sep) || abs.endsWith("/")) && dirname(abs) !== abs) abs = abs.slice(0, -1);
  const missing: string[] = [];
  for (let head = abs; ; head = dirname(head)) {
    try {
      return join(realpath(head), ...missing.reverse());
    } catch {
      if (dirname(head) === head) return abs;
      missing.push(basename(head));
    }
  }
}

export class ClaimTable {
  private readonly byPath = new Map<string, Claim>();

  constructor(private readonly ttlMs: number) {}

  /** Live claims (not past their TTL at `nowMs`), oldest first. */
  list(nowMs: number): Claim[] {
    return [...this.byPath.values()].filter((c) => !this.expired(c, nowMs)).sort((a, b) => a.acquiredAtMs - b.acquiredAtMs);
  }

  get(path: string, nowMs: number): Claim | undefined {
    const c = this.byPath.get(path);
    return c && !this.expired(c, nowMs) ? c : undefined;
  }

  private expired(c: Claim, nowMs: number): boolean {
    return nowMs - c.touchedAtMs > this.ttlMs;
  }

  /**
   * A PreToolUse edit of `path`. A worker takes a free (or lapsed) file and keeps one it holds;
   * anyone else — another worker or a conductor session — is denied while a worker holds it.
   */
  decide(path: string, who: Requester, nowMs: number): ClaimDecision {
    const events: EventInput[] = [];
    const current = this.byPath.get(path);
    if (current && this.expired(current, nowMs)) {
      events.push(released(current, "ttl"));
    } else if (current && current.worker !== who.worker) {
      events.push({
        type: "claim.denied",
        ...(who.worker ? { worker: who.worker } : {}),
        ...(who.session ? { session: who.session } : {}),
        payload: { path, holder: current.worker, heldMs: nowMs - current.acquiredAtMs },
      });
      return { kind: "deny", holder: current, events };
    } else if (current) {
      // Held by the asker already: refresh it (in memory; the TTL is a safety net, not a lease).
      current.touchedAtMs = nowMs;
      if (who.toolUseId) current.attempts?.add(who.toolUseId);
      else current.attempts = undefined;
      return { kind: "allow", events };
    }
    if (who.worker) {
      events.push({
        type: "claim.acquired",
        worker: who.worker,
        ...(who.session ? { session: who.session } : {}),
        payload: { path, atMs: nowMs, ...(who.toolUseId ? { toolUseId: who.toolUseId } : {}) },
      });
    }
    return { kind: "allow", events };
  }

  /**
   * Restarts every claim's TTL at `nowMs`, and forgets their edits' ids (the daemon starts: nobody
   * could refresh them while it was down, and edits after the first were not recorded, so a
   * refusal can no longer prove that no edit happened).
   */
  touchAll(nowMs: number): void {
    for (const c of this.byPath.values()) {
      c.touchedAtMs = Math.max(c.touchedAtMs, nowMs);
      c.attempts = undefined;
    }
  }

  /**
   * A worker's tool call `toolUseId` did not happen (refused, or failed): the event releasing the
   * claim it took, if no other edit of that file by the worker may have happened.
   */
  releaseUnmade(worker: string, toolUseId: string, reason: string): EventInput[] {
    const c = [...this.byPath.values()].find((x) => x.worker === worker && x.attempts?.has(toolUseId));
    if (!c) return [];
    c.attempts!.delete(toolUseId);
    return c.attempts!.size === 0 ? [released(c, reason)] : [];
  }

  /** Events releasing every claim a worker holds (the worker ended, or `cpwd release W3`). */
  releaseWorker(worker: string, reason: string): EventInput[] {
    return [...this.byPath.values()].filter((c) => c.worker === worker).map((c) => released(c, reason));
  }

  /** Event releasing one path, if claimed. */
  releasePath(path: string, reason: string): EventInput[] {
    const c = this.byPath.get(path);
    return c ? [released(c, reason)] : [];
  }

  /** Applies a recorded claim event (live, and in replay). Other types are ignored. */
  apply(e: EventRecord | EventInput, atMs: number): void {
    const path = e.payload.path;
    if (typeof path !== "string") return;
    if (e.type === "claim.acquired" && e.worker) {
      const at = typeof e.payload.atMs === "number" ? e.payload.atMs : atMs;
      const attempts = typeof e.payload.toolUseId === "string" ? { attempts: new Set([e.payload.toolUseId]) } : {};
      this.byPath.set(path, { path, worker: e.worker, ...(e.session ? { session: e.session } : {}), acquiredAtMs: at, touchedAtMs: at, ...attempts });
    } else if (e.type === "claim.released") {
      const c = this.byPath.get(path);
      if (c && (!e.worker || c.worker === e.worker)) this.byPath.delete(path);
    }
  }
}

/** A claim as `claims.list` (and `cpwd claims` from the record) gives it; `name`: its worker's. */
export function listedClaim(c: Claim, name: string | null | undefined, nowMs: number) {
  return {
    path: c.path,
    worker: c.worker,
    ...(name ? { name } : {}),
    ...(c.session ? { session: c.session } : {}),
    acquiredAt: new Date(c.acquiredAtMs).toISOString(),
    heldMs: Math.max(0, nowMs - c.acquiredAtMs),
  };
}

function released(c: Claim, reason: string): EventInput {
  return { type: "claim.released", worker: c.worker, payload: { path: c.path, reason } };
}
