// Chaos 3: hostile clients.
//
// Load: 10,000 generated bad messages — not JSON, binary noise, truncated JSON, wrong types, huge
// numbers, deep nesting (to 100,000 levels), unknown methods, wrong params, batches of bad
// entries, bad notifications, batches over the 1,000-entry limit, lines over the 1 MiB limit, and
// lines left unfinished then silence — on 50 connections at once; beside them 1,000 idle
// connections and a client that pipelines 1,000 whole-page `events.read` and 20,000 pings and
// never reads a reply. A good client, in a process of its own, pings throughout.
// Must hold: the daemon stays up; every bad message gets the right error (parse error, invalid
// request, no such method, invalid params, MESSAGE_TOO_LARGE) and a notification gets none; an
// oversize line is answered and its connection closed; unfinished lines are never answered; the
// idle and the non-reading connections are kept (paused, not buffered for); the daemon's peak RSS
// stays within 150 MiB of where it started (printed); the good client's ping p99 is printed against
// the 10 ms target and asserted under 50 ms when the machine was quiet before and after the run,
// else under 250 ms (why, at the assertion).
//
// The same spirit at the other doors: the hook shim given hostile stdin answers, exits 0 and never
// prints a stack trace, with the daemon up; a hostile config.json keeps the daemon from starting
// with a sentence naming the file (the shim falls back to its defaults); a hostile Claude Code
// settings file makes `cpwd hooks install` refuse and leaves the file as it was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { availableParallelism, loadavg, setPriority as osSetPriority } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cpwd, pathsFor, pidAlive, REPO, startDaemon, tempHome, testEnv, CLI, type TestDaemon } from "../helpers/daemon.js";
import { appendFillEvents, rawConnect } from "../helpers/raw-socket.js";
import { runShim } from "../helpers/shim.js";
import { figure, killHomeProcesses, MiB, n, percentile, rssBytes, sleep } from "./chaos-helpers.js";
import { BadMessages, seededRandom, type BadMessage, type Expect } from "./hostile-messages.js";

const HOSTILE_CONNS = 20;
const HUGE_BATCHES = HOSTILE_CONNS; // one on each hostile connection
const OVERSIZE = 10;
const PARTIAL = 20;
const RANDOM_MESSAGES = 10_000 - HUGE_BATCHES - OVERSIZE - PARTIAL;
const IDLE = 1_000;
const PING_CLIENT = join(REPO, "test", "chaos", "fixtures", "ping-client.mjs");

type Reply = { id?: unknown; result?: any; error?: { code: number; message: string; data?: { code?: string } } };

/** A raw connection that keeps every reply line (parsed) and knows when the daemon closed it. */
class Conn {
  /** Reply lines as they came, parsed only when read (the client's own CPU stays out of the measure). */
  readonly lines: string[] = [];
  closed = false;
  private buf = "";
  private constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.buf += c.toString("utf8");
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) !== -1) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => (this.closed = true));
  }
  get replies(): Array<Reply | Reply[]> {
    return this.lines.map((l) => JSON.parse(l) as Reply | Reply[]);
  }
  static open(path: string): Promise<Conn> {
    const socket = connect(path);
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(new Conn(socket)));
      socket.once("error", reject);
    });
  }
  async waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${this.lines.length} replies, closed: ${this.closed})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Checks a connection's replies against what its lines expect; returns how many were checked. */
function checkReplies(tag: string, sent: BadMessage[], replies: Array<Reply | Reply[]>): number {
  const byId = new Map<string, Expect & { kind: "error" }>();
  const inBatch = new Map<string, number>();
  const nullInBatch: number[] = [];
  const nullIds: Array<{ code: number; dataCode?: string }> = [];
  let batches = 0;
  for (const m of sent) {
    const e = m.expect;
    if (e.kind === "error" && e.id !== null) byId.set(e.id, e);
    else if (e.kind === "error") nullIds.push({ code: e.code, ...(e.dataCode ? { dataCode: e.dataCode } : {}) });
    else if (e.kind === "batch") {
      batches++;
      for (const x of e.entries) {
        if (x.id === null) nullInBatch.push(x.code);
        else inBatch.set(x.id, x.code);
      }
    }
  }
  const what = (r: unknown) => JSON.stringify(r).slice(0, 300);
  let checked = 0;
  for (const r of replies) {
    if (Array.isArray(r)) {
      batches--;
      for (const x of r) {
        if (x.id === null) {
          const i = nullInBatch.indexOf(x.error?.code ?? 0);
          assert.ok(i !== -1, `${tag}: a batch entry no message asked for: ${what(x)} in ${what(r)}; sent ${sent.filter((m) => m.kind === "badBatch" && m.line.toString().includes("jsonrpc")).length} batches`);
          nullInBatch.splice(i, 1);
        } else {
          assert.equal(x.error?.code, inBatch.get(String(x.id)), `${tag}: batch entry ${what(x)}`);
          inBatch.delete(String(x.id));
        }
      }
    } else if (r.id === `${tag}-end`) {
      assert.equal(r.result?.pong, true);
    } else if (r.id === null) {
      // An exact match first: a reply with a data code (a huge batch's MESSAGE_TOO_LARGE) may come
      // before an earlier plain one (it is answered as soon as the line is read), and must not use
      // up a plain expectation.
      const exact = nullIds.findIndex((x) => x.code === r.error?.code && x.dataCode === r.error?.data?.code);
      const i = exact !== -1 ? exact : nullIds.findIndex((x) => x.code === r.error?.code && x.dataCode === undefined);
      assert.ok(i !== -1, `${tag}: an error with no id that no message asked for: ${what(r)}`);
      nullIds.splice(i, 1);
    } else {
      const e = byId.get(String(r.id));
      assert.ok(e, `${tag}: a reply no message asked for: ${what(r)}`);
      assert.equal(r.error?.code, e.code, `${tag}: ${what(r)}`);
      if (e.dataCode) assert.equal(r.error?.data?.code, e.dataCode);
      byId.delete(String(r.id));
    }
    checked++;
  }
  const left = byId.size + nullIds.length + inBatch.size + nullInBatch.length + batches;
  assert.equal(left, 0, `${tag}: every message was answered (left: ${byId.size} by id, ${nullIds.length} without id, ${inBatch.size + nullInBatch.length} batch entries)`);
  return checked;
}

/** Sets a process's nice value; false where this user may not raise it. */
function setPriority(pid: number, nice: number): boolean {
  try {
    osSetPriority(pid, nice);
    return true;
  } catch {
    return false;
  }
}

/** The share of the machine's CPU (0-1) busy over `ms`, read from /proc/stat: other work, when sampled before ours starts. */
async function machineBusyShare(ms: number): Promise<number> {
  const sample = () => {
    // user nice system idle iowait irq softirq steal: guest and guest_nice are counted in user already.
    const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = f[3]! + (f[4] ?? 0); // idle + iowait
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await sleep(ms);
  const b = sample();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** Other work took less than this share of the machine's CPU just before the run and just after it: the tight bound applies. */
const QUIET_BUSY_SHARE = 0.25;
/** The good client's ping p99 asserted on a quiet machine (the target, 10 ms, is printed), and on any machine. */
const P99_BOUND_QUIET_MS = 50;
const P99_BOUND_MS = 250;

function procLimit(pid: number, name: string): number {
  const m = new RegExp(`^${name}\\s+(\\d+|unlimited)`, "m").exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m?.[1] === "unlimited" || !m ? Infinity : Number(m[1]);
}

test("hostile clients: 10,000 bad messages, 1,000 idle connections and a client that never reads; the daemon answers each and a good client is served", { timeout: 150_000 }, async (t) => {
  if (process.platform !== "linux") return t.skip("reads /proc");
  const seed = Number(process.env.CPWD_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = seededRandom(seed);
  console.log(`hostile clients: seed ${seed} (CPWD_CHAOS_SEED=${seed} replays the same messages)`);
  // How busy the machine is with other work, before ours starts: it decides the bound asserted.
  const othersBusy = await machineBusyShare(1_000);
  const home = tempHome("cpwd-chaos-hostile-");
  let d: TestDaemon | undefined;
  const sockets: Socket[] = [];
  let good: ReturnType<typeof spawn> | undefined;
  try {
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    const socketPath = d.paths.socket;
    // About 1 MiB of record, so that each of the never-reading client's reads is a full page.
    const filler = await rawConnect(socketPath);
    await appendFillEvents(filler, 1_500, "x".repeat(600));
    for (let i = 0; i < 100; i++) {
      filler.send(`{"jsonrpc":"2.0","id":${i},"method":"ping"}\n`);
      await filler.next();
    }
    filler.close();
    const baseline = rssBytes(d.pid);
    writeFileSync(`/proc/${d.pid}/clear_refs`, "5"); // peak RSS from here

    // Every bad message is made before the good client starts: only sending them is measured.
    const planned = Array.from({ length: HOSTILE_CONNS }, (_, k) => {
      const gen = new BadMessages(`h${k}`, seededRandom(Math.floor(random() * 2 ** 31)));
      const count = Math.floor(RANDOM_MESSAGES / HOSTILE_CONNS) + (k < RANDOM_MESSAGES % HOSTILE_CONNS ? 1 : 0);
      const sent: BadMessage[] = Array.from({ length: count }, () => gen.next());
      sent.splice(Math.floor(count / 2), 0, gen.hugeBatch());
      return sent;
    });

    // The good client, in a process of its own, until its stdin is closed. It and the daemon run
    // at a higher priority where that is allowed (root), so that other work on a shared machine
    // does not stand between them: the hostile clients, in this process, keep the normal one.
    const raised = setPriority(d.pid, -10);
    good = spawn(process.execPath, [PING_CLIENT, socketPath, "120000"], { stdio: ["pipe", "pipe", "inherit"] });
    if (raised) setPriority(good.pid!, -10);
    let goodOut = "";
    good.stdout!.on("data", (c: Buffer) => (goodOut += c.toString()));
    const goodDone = new Promise<void>((r) => good!.once("exit", () => r()));

    // Idle connections: they connect and say nothing (a hundred at a time: more at once would
    // overflow the socket's listen backlog, and the kernel would refuse them with EAGAIN).
    const idleCount = Math.min(IDLE, procLimit(d.pid, "Max open files") - 300);
    const idle: Conn[] = [];
    while (idle.length < idleCount) idle.push(...(await Promise.all(Array.from({ length: Math.min(100, idleCount - idle.length) }, () => Conn.open(socketPath)))));
    sockets.push(...idle.map((c) => c.socket));

    // The client that never reads: everything pipelined at once, its socket paused.
    const greedy = await Conn.open(socketPath);
    sockets.push(greedy.socket);
    greedy.socket.pause();
    const reads = Array.from({ length: 1_000 }, (_, i) => `{"jsonrpc":"2.0","id":"r${i}","method":"events.read","params":{"fromSeq":0,"limit":10000}}\n`).join("");
    const pings = Array.from({ length: 20_000 }, (_, i) => `{"jsonrpc":"2.0","id":"p${i}","method":"ping"}\n`).join("");
    greedy.socket.write(reads + pings);

    // Unfinished lines, then silence.
    const partial = await Promise.all(Array.from({ length: PARTIAL }, () => Conn.open(socketPath)));
    sockets.push(...partial.map((c) => c.socket));
    for (const c of partial) c.socket.write('{"jsonrpc":"2.0","id":"unfinished","method":"pi');

    // The hostile connections: their share of the random messages and a huge batch, then a ping.
    const hostile = async (k: number) => {
      const sent = planned[k]!;
      const c = await Conn.open(socketPath);
      sockets.push(c.socket);
      // 20 lines every 100 ms on each of 20 connections: 4,000 bad messages a second for about
      // 2.5 s, so that the good client's pings (about a thousand) are taken under the load.
      for (let i = 0; i < sent.length; i += 20) {
        c.socket.write(Buffer.concat(sent.slice(i, i + 20).flatMap((m) => [m.line, Buffer.from("\n")])));
        await sleep(100);
      }
      c.socket.write(`{"jsonrpc":"2.0","id":"h${k}-end","method":"ping"}\n`);
      const answered = sent.filter((m) => m.expect.kind !== "none").length + 1;
      await c.waitFor(`h${k}'s replies`, () => c.lines.length >= answered);
      await new Promise((r) => setTimeout(r, 50)); // anything extra would arrive now
      assert.equal(c.closed, false, `h${k}: bad messages do not close the connection`);
      const kinds = new Map<string, number>();
      for (const m of sent) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
      return { c, sent, kinds };
    };
    // Lines over the limit: answered MESSAGE_TOO_LARGE, then the connection is closed.
    const oversize = async (k: number) => {
      const c = await Conn.open(socketPath);
      sockets.push(c.socket);
      c.socket.write(`{"jsonrpc":"2.0","id":"big","method":"events.append","params":{"type":"ext.big","payload":{"pad":"${"x".repeat(MiB + k * 1000)}"}}}\n`);
      await c.waitFor(`oversize ${k} to be closed`, () => c.closed);
      assert.equal(c.lines.length, 1, "one reply, then the connection closes");
      assert.equal((c.replies[0] as Reply).error?.data?.code, "MESSAGE_TOO_LARGE");
    };
    const results = await Promise.all([...Array.from({ length: HOSTILE_CONNS }, (_, k) => hostile(k)), ...Array.from({ length: OVERSIZE }, (_, k) => oversize(k).then(() => null))]);
    const hostileResults = results.filter((r) => r !== null);
    const checked = hostileResults.reduce((sum, r, k) => sum + checkReplies(`h${k}`, r.sent, r.c.replies), 0);

    // The good client stops; its figures.
    good.stdin!.end();
    await goodDone;
    const goodResult = JSON.parse(goodOut) as { pings: number[]; appends: number[]; errors: string[] };
    const peak = rssBytes(d.pid, "VmHWM");

    // Everyone else is where they should be.
    assert.ok(pidAlive(d.pid), "the daemon is up");
    assert.ok(idle.every((c) => !c.closed && c.lines.length === 0), "idle connections are kept, and nothing is said on them");
    assert.ok(partial.every((c) => c.lines.length === 0), "an unfinished line is never answered");
    assert.equal(greedy.closed, false, "the client that never reads is paused, not dropped");
    assert.deepEqual(goodResult.errors, [], "the good client saw no error");

    // Other work that began during the run shows after it too (ours is over: the daemon is idle).
    const othersBusyAfter = await machineBusyShare(1_000);
    const quiet = othersBusy < QUIET_BUSY_SHARE && othersBusyAfter < QUIET_BUSY_SHARE;
    const lat = [...goodResult.pings].sort((a, b) => a - b);
    const p99 = percentile(lat, 99);
    const kinds = new Map<string, number>();
    for (const r of hostileResults) for (const [k, c] of r.kinds) kinds.set(k, (kinds.get(k) ?? 0) + c);
    const total = [...kinds.values()].reduce((a, b) => a + b, 0) + OVERSIZE + PARTIAL;
    // The machine's load beside the figure: on a shared machine it is much of what the tail says.
    const load = `load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores, ${(othersBusy * 100).toFixed(0)}% busy before the run, ${(othersBusyAfter * 100).toFixed(0)}% after`;
    figure(
      "hostile",
      `${n(total)} bad messages (${[...kinds].map(([k, c]) => `${c} ${k}`).join(", ")}, ${OVERSIZE} oversize, ${PARTIAL} unfinished; seed ${seed}), ${n(checked)} replies checked, each right; ` +
        `${idleCount} idle + 1 never-reading connection kept; daemon RSS ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB; ` +
        `good client: ${lat.length} pings p50 ${percentile(lat, 50).toFixed(2)} ms, p90 ${percentile(lat, 90).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lat.at(-1)!.toFixed(1)} ms, ${goodResult.appends.length} appends (${load})`,
    );
    assert.ok(peak - baseline < 150 * MiB, `peak RSS grew by ${((peak - baseline) / MiB).toFixed(0)} MiB (at most 150 MiB)`);
    assert.ok(lat.length >= 200, `enough pings to read a p99 from (${lat.length})`);
    // The issue's target is a p99 under 10 ms, and the line below says whether it was met. The
    // bound asserted depends on the machine. Where other work kept it busy before or after the run
    // (a quarter of its CPU or more), only 250 ms, what no machine excuses: on 2 cores shared with
    // other work an idle daemon's ping p99 alone was 2–35 ms, scavenges under this load took 80–330 ms
    // when V8's helper thread got no core, and p99s here ran 29–139 ms at load 7–9 (the turn
    // scheduler, src/rpc/turn-scheduler.ts, brought it down from about a second; that is checked
    // without a clock by test/integration/rpc-fairness.test.ts). On a quiet machine, 50 ms: five
    // times the target, and over twice the worst p99 seen in CI before lines were read for their
    // shape and heavy work held to a page a connection (12–22.5 ms); with the daemon and the good
    // client made real-time here, to shut out other work, it was 6–7 ms after those changes (4 runs).
    // Since a connection that was idle goes first for one line only, first come first served
    // (src/rpc/turn-scheduler.ts), 6.7–9.6 ms on a quiet machine (21 runs) and 7.7 ms in CI.
    const bound = quiet ? P99_BOUND_QUIET_MS : P99_BOUND_MS;
    console.log(`hostile clients: ping p99 ${p99.toFixed(2)} ms (${load}): the 10 ms target was ${p99 < 10 ? "met" : "not met on this machine now"}; ${bound} ms asserted`);
    assert.ok(p99 < bound, `the good client's ping p99 is ${p99.toFixed(2)} ms (under ${bound} ms asserted, the machine ${quiet ? "quiet" : "busy"} around the run; 10 ms is the target)`);
  } finally {
    good?.kill("SIGKILL");
    for (const s of sockets) s.destroy();
    if (d) await d.stop();
    killHomeProcesses(home);
    rmSync(home, { recursive: true, force: true });
  }
});

/** No stack trace, in any output meant for a person. */
function assertNoStack(what: string, text: string): void {
  assert.doesNotMatch(text, /\n\s+at [^\n]+:\d+:\d+\)?\n|RangeError|TypeError|SyntaxError: Unexpected|node:internal/, `${what} printed a stack trace or an internal error:\n${text.slice(0, 600)}`);
}

const deepObject = (d: number) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;

test("hostile hook input: the shim answers and exits 0 with no stack trace, whatever its stdin, and the daemon stays up", { timeout: 120_000 }, async () => {
  const home = tempHome("cpwd-chaos-shim-");
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
    const big = (n: number) => "a".repeat(n);
    const inputs: Array<[string, string | Buffer]> = [
      ["empty", ""],
      ["not JSON", "hello"],
      ["binary", Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a, 0xc3])],
      ["an array", "[]"],
      ["a number", "42"],
      ["null", "null"],
      ["a non-string event name", '{"hook_event_name":5}'],
      ["an object event name", '{"hook_event_name":{"x":1},"session_id":[]}'],
      ["100,000 levels deep", deepObject(100_000)],
      ["6 MiB of one letter", big(6 * MiB)],
      ["a 6 MiB Write (salvaged)", JSON.stringify({ hook_event_name: "PreToolUse", session_id: "s-big", tool_name: "Write", tool_input: { file_path: "/tmp/x", content: big(6 * MiB) } })],
      ["control characters in a path", JSON.stringify({ hook_event_name: "PreToolUse", session_id: "s-ctl", tool_name: "Write", tool_input: { file_path: "/tmp/\u0000\u0007\u001b[31m\n../../etc/passwd" } })],
      ["a 1 MiB session id", JSON.stringify({ hook_event_name: "Stop", session_id: big(MiB) })],
      ["a 10 kB event name", JSON.stringify({ hook_event_name: big(10_000) })],
      ["huge numbers", '{"hook_event_name":"PostToolUse","session_id":"s-num","duration_ms":1e400,"tool_input":{"file_path":1e308}}'],
      ["prototype keys", '{"hook_event_name":"PreToolUse","__proto__":{"tool_name":"Write"},"constructor":{"prototype":{"x":1}},"tool_input":{"__proto__":{"file_path":"/etc/passwd"}}}'],
    ];
    for (const [what, input] of inputs) {
      const r = await runShim(home, typeof input === "string" ? input : input.toString("latin1"), { CPWD_LOG_LEVEL: "warn" });
      assert.equal(r.code, 0, `${what}: exit ${r.code}, ${r.stderr}`);
      assertNoStack(`the shim (${what})`, r.stderr + r.stdout);
      assert.ok(r.stdout.trim() === "" || r.json !== undefined, `${what}: stdout is nothing or JSON: ${r.stdout.slice(0, 200)}`);
    }
    // Stdin that never closes: the shim answers within its budget (its backstop) all the same.
    const held = spawn(process.execPath, [join(REPO, "dist", "hooks", "cpwd-hook.cjs")], { env: testEnv(home, { CPWD_AUTOSTART: "0", CPWD_HOOK_BUDGET_MS: "300" }), stdio: ["pipe", "pipe", "pipe"] });
    held.stdin!.write('{"hook_event_name":"PreToolUse","tool_name":"Wr');
    let heldErr = "";
    held.stderr!.on("data", (c: Buffer) => (heldErr += c.toString()));
    const heldCode = await new Promise<number | null>((r) => held.once("exit", (code) => r(code)));
    held.stdin!.destroy();
    assert.equal(heldCode, 0, "a shim whose stdin never closes still exits 0");
    assertNoStack("the shim (stdin held open)", heldErr);

    const c = await d.client();
    assert.equal((await c.call("ping")).pong, true, "the daemon is up");
    c.close();
    // Whatever was recorded of those calls is whole.
    for (const l of readFileSync(d.paths.events, "utf8").split("\n").filter((x) => x !== "")) JSON.parse(l);
    figure("hostile-shim", `${inputs.length + 1} hostile hook inputs (not JSON, binary, deep, 6 MiB, control characters, stdin held open…): each answered, exit 0, no stack trace; daemon up, record whole`);
  } finally {
    if (d) await d.stop();
    killHomeProcesses(home);
    rmSync(home, { recursive: true, force: true });
  }
});

test("a hostile config.json: the daemon refuses to start, naming the file; the shim falls back to its defaults; no stack trace anywhere", { timeout: 120_000 }, async () => {
  const configs: Array<[string, string | Buffer]> = [
    ["empty", ""],
    ["not JSON", "{maxParallel: 4}"],
    ["binary", Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x0a])],
    ["an array", "[]"],
    ["null", "null"],
    ["a string where a number goes", '{"maxParallel":"4"}'],
    ["a number too large for JSON", '{"maxParallel":1e400}'],
    ["a number past 2^53", '{"defaultGraceMs":9007199254740993}'],
    ["zero workers", '{"maxParallel":0}'],
    ["a negative budget", '{"hookBudgetMs":-1}'],
    ["an unknown key", '{"maxParalel":4}'],
    ["a prototype key", '{"__proto__":{"maxParallel":0}}'],
    ["100,000 levels deep", deepObject(100_000)],
    ["a wrong type deep inside", '{"claudeDailyBudgetUsd":{"a":[1,2,{"b":null}]}}'],
  ];
  const homes = configs.map(() => tempHome("cpwd-chaos-config-"));
  try {
    const results = await Promise.all(
      configs.map(async ([what, text], i) => {
        const home = homes[i]!;
        writeFileSync(pathsFor(home).config, text);
        const daemon = spawn(process.execPath, [CLI, "daemon"], { env: testEnv(home, { CPWD_LOG_LEVEL: "warn" }), stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        daemon.stdout!.on("data", (c: Buffer) => (out += c.toString()));
        daemon.stderr!.on("data", (c: Buffer) => (out += c.toString()));
        const timer = setTimeout(() => daemon.kill("SIGKILL"), 60_000);
        const code = await new Promise<number | null>((r) => daemon.once("exit", (c) => r(c)));
        clearTimeout(timer);
        return { what, code, out };
      }),
    );
    for (const { what, code, out } of results) {
      assert.notEqual(code, 0, `${what}: the daemon did not start (exit ${code})`);
      assert.notEqual(code, null, `${what}: the daemon exited by itself`);
      assert.match(out, /config\.json/, `${what}: the refusal names the file: ${out.slice(0, 300)}`);
      assertNoStack(`the daemon (${what})`, out);
    }
    // The shim reads the same file by hand: a bad one means its defaults, never a failure.
    for (const [i, [what]] of configs.entries()) {
      const r = await runShim(homes[i]!, { hook_event_name: "Stop", session_id: "s" }, { CPWD_LOG_LEVEL: "warn" });
      assert.equal(r.code, 0, `the shim with ${what}: exit ${r.code}`);
      assertNoStack(`the shim with ${what}`, r.stderr + r.stdout);
      const s = cpwd(homes[i]!, ["status"]);
      assertNoStack(`cpwd status with ${what}`, s.stderr + s.stdout);
    }
    figure("hostile-config", `${configs.length} hostile config.json files: the daemon refused each, naming the file; the shim answered with its defaults; no stack trace`);
  } finally {
    for (const h of homes) {
      killHomeProcesses(h);
      rmSync(h, { recursive: true, force: true });
    }
  }
});

test("a hostile Claude Code settings file: `cpwd hooks install` refuses it and leaves it byte for byte, or keeps what it does not own", { timeout: 60_000 }, async () => {
  const home = tempHome("cpwd-chaos-settings-");
  const dir = join(home, "project");
  const settings = join(dir, ".claude", "settings.json");
  mkdirSync(join(dir, ".claude"), { recursive: true });
  try {
    const refused: Array<[string, string | Buffer]> = [
      ["not JSON", "{hooks:"],
      ["binary", Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
      ["an array", "[]"],
      ["null", "null"],
      ["hooks a string", '{"hooks":"all"}'],
      ["an event's hooks not a list", '{"hooks":{"PreToolUse":{"matcher":"*"}}}'],
      ["100,000 levels deep", deepObject(100_000)],
      ["5 MiB of garbage", `{"a":"${"x".repeat(5 * MiB)}`],
    ];
    for (const [what, text] of refused) {
      writeFileSync(settings, text);
      const before = readFileSync(settings);
      const r = cpwd(home, ["hooks", "install", "--dir", dir], { HOME: home });
      assert.notEqual(r.code, 0, `${what}: refused`);
      assert.match(r.stderr, /settings\.json/, `${what}: the refusal names the file`);
      assertNoStack(`hooks install (${what})`, r.stderr + r.stdout);
      assert.ok(readFileSync(settings).equals(before), `${what}: the file is left byte for byte`);
    }
    // Entries of odd shapes that are not cpwd's are someone else's: kept as they were, ours added.
    const foreign = { hooks: { PreToolUse: [{ hooks: "x" }, { matcher: 5, hooks: [{ type: "command", command: 5 }] }] }, theirs: { deep: [[[1]]] } };
    writeFileSync(settings, JSON.stringify(foreign));
    const r = cpwd(home, ["hooks", "install", "--dir", dir], { HOME: home });
    assert.equal(r.code, 0, r.stderr);
    const after = JSON.parse(readFileSync(settings, "utf8"));
    assert.deepEqual(after.hooks.PreToolUse.slice(0, 2), foreign.hooks.PreToolUse, "the foreign entries are kept as they were");
    assert.deepEqual(after.theirs, foreign.theirs);
    figure("hostile-settings", `${refused.length} hostile settings files refused and left byte for byte; odd foreign entries kept; no stack trace`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
