// File claims as a pure table: who may edit what, and the events that say so.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { claimPath, ClaimTable } from "../../daemon/coordination/claims.js";
import type { EventInput } from "../../src/protocol/events.js";

function run(t: ClaimTable, events: EventInput[], now: number): void {
  for (const e of events) t.apply(e, now);
}

test("a worker claims a free file; another worker and a conductor are denied, naming the holder", () => {
  const t = new ClaimTable(60_000);
  const a = t.decide("/r/a.ts", { worker: "W1" }, 1_000);
  assert.equal(a.kind, "allow");
  assert.deepEqual(a.events.map((e) => e.type), ["claim.acquired"]);
  run(t, a.events, 1_000);
  const other = t.decide("/r/a.ts", { worker: "W2" }, 5_000);
  assert.equal(other.kind, "deny");
  assert.equal(other.kind === "deny" && other.holder.worker, "W1");
  assert.equal(other.events[0]!.payload.heldMs, 4_000);
  const conductor = t.decide("/r/a.ts", { session: "S" }, 5_000);
  assert.equal(conductor.kind, "deny");
  assert.equal(conductor.events[0]!.session, "S");
  const same = t.decide("/r/a.ts", { worker: "W1" }, 6_000);
  assert.deepEqual(same, { kind: "allow", events: [] });
});

test("a conductor editing a free file is allowed and claims nothing", () => {
  const t = new ClaimTable(60_000);
  const d = t.decide("/r/b.ts", { session: "S" }, 0);
  assert.deepEqual(d, { kind: "allow", events: [] });
  assert.equal(t.list(0).length, 0);
});

test("a claim lapses after its TTL and the next asker takes it", () => {
  const t = new ClaimTable(10_000);
  run(t, t.decide("/r/a.ts", { worker: "W1" }, 0).events, 0);
  assert.equal(t.list(10_001).length, 0);
  const d = t.decide("/r/a.ts", { worker: "W2" }, 10_001);
  assert.deepEqual(d.events.map((e) => [e.type, e.worker]), [["claim.released", "W1"], ["claim.acquired", "W2"]]);
  run(t, d.events, 10_001);
  assert.equal(t.get("/r/a.ts", 10_002)?.worker, "W2");
});

test("releasing a worker frees all its files and nobody else's", () => {
  const t = new ClaimTable(60_000);
  for (const [p, w] of [["/a", "W1"], ["/b", "W1"], ["/c", "W2"]] as const) run(t, t.decide(p, { worker: w }, 0).events, 0);
  const ev = t.releaseWorker("W1", "worker ended");
  assert.equal(ev.length, 2);
  run(t, ev, 1);
  assert.deepEqual(t.list(1).map((c) => c.path), ["/c"]);
  run(t, t.releasePath("/c", "cpwd release"), 2);
  assert.equal(t.list(2).length, 0);
});

test("paths are absolute and normalised against the hook's cwd", () => {
  assert.equal(claimPath("src/../src/a.ts", "/repo"), "/repo/src/a.ts");
  assert.equal(claimPath("/x//y/./z", "/repo"), "/x/y/z");
});

test("one file, one claim, however it is named: trailing separators, symlinked folders and cwds", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "cpwd-claims-")));
  try {
    mkdirSync(join(dir, "src"));
    symlinkSync(join(dir, "src"), join(dir, "link"));
    symlinkSync(dir, join(dir, "proj-link"));
    const real = join(dir, "src", "a.ts");
    assert.equal(claimPath("src/a.ts/", dir), real);
    assert.equal(claimPath(join(dir, "link", "a.ts"), "/"), real, "through a symlinked folder, file not created yet");
    assert.equal(claimPath("src/a.ts", join(dir, "proj-link")), real, "from a symlinked cwd");
    assert.equal(claimPath(join(dir, "link", "new", "deep.ts"), "/"), join(dir, "src", "new", "deep.ts"), "missing folders kept as named");
    assert.equal(claimPath("/", "/x"), "/");
    // On POSIX a backslash is part of a name, not a separator.
    if (process.platform !== "win32") assert.equal(claimPath(join(dir, "src", "a.ts\\"), "/"), join(dir, "src", "a.ts\\"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a daemon start gives every replayed claim a fresh TTL: nobody could refresh it while the daemon was down", () => {
  const t = new ClaimTable(1_000);
  run(t, t.decide("/a", { worker: "W1" }, 0).events, 0);
  assert.equal(t.list(5_000).length, 0, "lapsed by the clock alone");
  t.touchAll(5_000);
  assert.deepEqual(t.list(5_500).map((c) => c.path), ["/a"]);
  assert.equal(t.list(5_500)[0]!.acquiredAtMs, 0, "held since it was acquired");
  assert.equal(t.list(6_001).length, 0);
});
