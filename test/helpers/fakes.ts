// In-memory stand-ins for the supervisor's edges: a clock you advance by hand, an event log in an
// array, and a runner whose workers end when the test says so.
import type { Logger } from "pino";
import type { Clock, DaemonContext, EventAppender } from "../../daemon/context.js";
import type { AdoptResult, ExitStatus, LaunchSpec, Runner, WorkerHandle } from "../../daemon/runner/runner.js";
import { defaultConfig, type Config } from "../../src/platform/config.js";
import { resolvePaths } from "../../src/platform/paths.js";
import type { EventInput, EventRecord } from "../../src/protocol/events.js";

export class FakeClock implements Clock {
  private nowMs = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  now(): number {
    return this.nowMs;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.nowMs + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers[0];
      if (!t || t.at > until) break;
      this.timers.shift();
      this.nowMs = t.at;
      t.fn();
    }
    this.nowMs = until;
  }
  pending(): number {
    return this.timers.length;
  }
}

export class MemoryLog implements EventAppender {
  readonly records: EventRecord[] = [];
  constructor(private readonly clock: Clock) {}
  async append(inputs: EventInput[]): Promise<EventRecord[]> {
    const out = inputs.map((i) => ({
      v: 1 as const,
      seq: this.records.length + 1 + inputs.indexOf(i),
      ts: i.ts ?? new Date(this.clock.now()).toISOString(),
      type: i.type,
      source: i.source ?? ("daemon" as const),
      ...(i.worker ? { worker: i.worker } : {}),
      ...(i.session ? { session: i.session } : {}),
      payload: i.payload,
    }));
    this.records.push(...out);
    return out;
  }
  types(worker?: string): string[] {
    return this.records.filter((r) => !worker || r.worker === worker).map((r) => r.type);
  }
}

export class FakeRunner implements Runner {
  private nextPid = 1000;
  readonly launched: LaunchSpec[] = [];
  readonly signals: Array<[string, string]> = [];
  private readonly exits = new Map<string, (e: ExitStatus) => void>();
  constructor(private readonly clock: Clock) {}
  async launch(spec: LaunchSpec): Promise<WorkerHandle> {
    this.launched.push(spec);
    const pid = this.nextPid++;
    return { workerId: spec.workerId, pid, wrapperPid: pid + 50_000, pidStartTime: "1", wrapperStartTime: "1", startedAtMs: this.clock.now() };
  }
  signal(handle: WorkerHandle, signal: NodeJS.Signals): void {
    this.signals.push([handle.workerId, signal]);
  }
  watchExit(handle: WorkerHandle, _dir: string, onExit: (exit: ExitStatus) => void): () => void {
    this.exits.set(handle.workerId, onExit);
    return () => this.exits.delete(handle.workerId);
  }
  async adopt(): Promise<AdoptResult> {
    return { kind: "lost", handle: null };
  }
  close(): void {}
  /** Ends a running worker as if its process exited. */
  finish(id: string, code: number | null, signal: string | null = null, timedOut = false): void {
    const cb = this.exits.get(id);
    if (!cb) throw new Error(`${id} is not running`);
    cb({ code, signal, timedOut, endedAtMs: this.clock.now() });
  }
  running(): string[] {
    return [...this.exits.keys()];
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

export function fakeContext(home: string, clock: Clock, events: EventAppender, config: Partial<Config> = {}): DaemonContext {
  return {
    paths: resolvePaths({ env: { CPWD_HOME: home }, platform: process.platform, home, uid: 0 }),
    config: { ...defaultConfig(), ...config },
    log: silent,
    events,
    clock,
    version: "test",
  };
}

/** Lets queued promise callbacks (the supervisor's lock chain) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
