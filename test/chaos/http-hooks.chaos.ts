// Chaos 7: the daemon killed, and then hung, under a Claude Code session whose hooks go over HTTP.
//
// Load: the real Claude Code CLI (offline, against the fake Messages API) with the hooks `cpwd
// hooks install --transport http` writes (PreToolUse, PostToolUse and UserPromptSubmit over HTTP,
// the shim on the rest), making 40 Write calls, each to a file of its own, one per model turn.
// Faults, placed by the fake as it answers the turns (so each call's fate is known): the daemon is
// `kill -9`ed before call 10 and started again (as the login service would) before call 20; it is
// SIGSTOPped before call 30 and continued before call 32.
// Must hold: the session finishes (success, all 40 Writes made, every file written); the record
// parses and its seq is gapless; every HTTP hook call of a call made while the daemon was up is in
// it exactly once; the calls made while it was down are missing as hook calls (HTTP hooks have no
// fallback: the figure says how many) and recovered from the session's transcript once the daemon is
// back, each once, as `hook.recovered`; the calls made while it was hung cost Claude Code the HTTP timeout each
// and are still recorded, once, late: when the daemon runs again (its reply is lost, not the
// event); the shim's events (SessionStart, Stop, SessionEnd) are recorded; the restarted daemon
// serves the same port and token.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readHookEndpoint } from "../../src/records/hook-endpoint.js";
import { cpwd, pathsFor, startDaemon, tempHome, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { claudeEnv, makeProject, runClaude } from "../helpers/claude.js";
import { startFakeApi, type RecordedRequest, type Reply } from "../helpers/fake-messages-api.js";
import { assertSeqGapless, figure, keepOrRemove, killHomeProcesses, readRecord } from "./chaos-helpers.js";

const CALLS = 40;
const KILL_AT = 10;
const RESTART_AT = 20;
const STOP_AT = 30;
const CONT_AT = 32;

/** How many tool results a model request carries: which call the fake is asked for next. */
function answered(req: RecordedRequest): number {
  const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  return msgs.filter((m) => m.role === "user" && Array.isArray(m.content) && m.content.some((b: { type?: string }) => b.type === "tool_result")).length;
}

test("chaos http-hooks: a session keeps going while its daemon is killed and hung; what is lost is counted", { timeout: 240_000 }, async () => {
  const home = tempHome("cpwd-chaos-http-");
  const p = makeProject({});
  const file = (i: number) => join(p.project, `f${i}.txt`);
  let d: TestDaemon | undefined = await startDaemon(home);
  let passed = false;
  const faults: Record<number, () => Promise<unknown>> = {
    [KILL_AT]: async () => {
      await d!.kill9();
      d = undefined;
    },
    [RESTART_AT]: async () => (d = await startDaemon(home)),
    [STOP_AT]: async () => process.kill(d!.pid, "SIGSTOP"),
    [CONT_AT]: async () => process.kill(d!.pid, "SIGCONT"),
  };
  const done = new Map<number, Promise<unknown>>();
  const script = (req: RecordedRequest): Reply => {
    const i = answered(req);
    if (i >= CALLS) return { text: "all written" };
    const reply: Reply = { tool: { name: "Write", input: { file_path: file(i), content: `call ${i}\n` } } };
    const fault = faults[i];
    if (!fault) return reply;
    if (!done.has(i)) done.set(i, fault());
    return { ...reply, until: done.get(i)! };
  };
  const api = await startFakeApi(script);
  try {
    const install = cpwd(home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home });
    assert.equal(install.code, 0, install.stderr);
    const endpoint = readHookEndpoint(pathsFor(home).hookEndpoint);

    const t0 = performance.now();
    const run = await runClaude({ cwd: p.project, prompt: "write the files", env: claudeEnv(api.url, p.home, { CPWD_HOME: home, CPWD_AUTOSTART: "0" }), timeoutMs: 180_000 });
    const sessionMs = performance.now() - t0;
    assert.equal(run.result?.subtype, "success", run.stderr.slice(0, 2_000));
    const session = run.result.session_id as string;
    for (let i = 0; i < CALLS; i++) assert.ok(existsSync(file(i)), `call ${i}'s Write ran`);
    assert.deepEqual(readHookEndpoint(pathsFor(home).hookEndpoint), endpoint, "the restarted daemon kept the port and token");

    // The session's SessionEnd shim may still be finishing; the hung calls were taken in on SIGCONT.
    await waitFor("SessionEnd in the record", () => readRecord(pathsFor(home).events).some((e) => e.session === session && e.type === "hook.SessionEnd"), 20_000, 100);
    const record = readRecord(pathsFor(home).events).filter((e) => e.session === session);
    assertSeqGapless(readRecord(pathsFor(home).events));

    const down = (i: number) => i >= KILL_AT && i < RESTART_AT;
    const hung = (i: number) => i >= STOP_AT && i < CONT_AT;
    let live = 0;
    let late = 0;
    for (let i = 0; i < CALLS; i++) {
      for (const type of ["hook.PreToolUse", "hook.PostToolUse"]) {
        const n = record.filter((e) => e.type === type && e.payload.filePath === file(i)).length;
        assert.equal(n, down(i) ? 0 : 1, `${type} of call ${i} (daemon ${down(i) ? "down" : hung(i) ? "hung" : "up"})`);
        if (hung(i)) late += n;
        else live += n;
      }
    }
    // Each call made while the daemon was down is read back from the transcript, once; no other call is.
    const recovered = record.filter((e) => e.type === "hook.recovered");
    for (let i = 0; i < CALLS; i++) {
      const n = recovered.filter((e) => e.payload.filePath === file(i)).length;
      assert.equal(n, down(i) ? 1 : 0, `recovered Writes of call ${i} (daemon ${down(i) ? "down" : "up"})`);
    }
    assert.ok(recovered.every((e) => e.payload.recovered === true && e.payload.tool === "Write" && typeof e.payload.toolUseId === "string"));
    const prompt = record.filter((e) => e.type === "hook.UserPromptSubmit").length;
    assert.equal(prompt, 1);
    const shimTypes = ["hook.SessionStart", "hook.Stop", "hook.SessionEnd"];
    for (const t of shimTypes) assert.ok(record.some((e) => e.type === t), `${t} (the shim's) is recorded`);
    const viaFallback = record.filter((e) => e.source === "fallback").length;

    const expected = 1 + 2 * CALLS;
    const lost = 2 * (RESTART_AT - KILL_AT);
    figure(
      "http-hooks",
      `session of ${CALLS} Writes finished in ${(sessionMs / 1000).toFixed(1)} s; daemon killed for calls ${KILL_AT}–${RESTART_AT - 1}, hung for ${STOP_AT}–${CONT_AT - 1}: ` +
        `${live + late + prompt} of ${expected} HTTP hook calls reached the record (${lost} lost while it was down; of the ${RESTART_AT - KILL_AT} Writes made then, ` +
        `${recovered.length} recovered from the transcript; the ${late} made while it was hung recorded late), ` +
        `the shim's ${shimTypes.length} session events recorded (${viaFallback} through the fallback log); seq gapless, same port and token after the restart`,
    );
    passed = true;
  } finally {
    if (d) {
      process.kill(d.pid, "SIGCONT");
      await d.kill9();
    }
    await api.close();
    killHomeProcesses(home);
    keepOrRemove(home, passed);
    rmSync(p.dir, { recursive: true, force: true });
  }
});
