// HTTP hooks lost while the daemon was down, read back from the session's transcript, with the real
// Claude Code CLI offline against the fake Messages API: the daemon is stopped for two of a
// session's Writes and started again; at the session's next hook call the two missed Writes are
// recorded as `hook.recovered`, once each, and neither a later call nor another restart (the
// session resumed) records them again. With the shim transport the fallback log has those calls, and
// nothing is recovered on top of them.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { withClaudeProject, type Project } from "../helpers/claude-project.js";
import { claudeEnv, runClaude } from "../helpers/claude.js";
import { cpwd, startDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import type { RecordedRequest, Reply } from "../helpers/fake-messages-api.js";

const CALLS = 6;
/** The daemon is stopped before this call and started again before RESTART_AT: these calls are missed. */
const STOP_AT = 2;
const RESTART_AT = 4;

function events(file: string): any[] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** How many tool results a model request carries: which call the fake is asked for next. */
function answered(req: RecordedRequest): number {
  const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  return msgs.filter((m) => m.role === "user" && Array.isArray(m.content) && m.content.some((b: { type?: string }) => b.type === "tool_result")).length;
}

/** The daemon that serves now: the fake stops it before call STOP_AT and starts another before RESTART_AT. */
interface Serving {
  current?: TestDaemon;
}

/** The fake's script: Write f0…f5 one a turn, stopping and restarting the daemon on the way. */
function writesWithGap(serving: Serving, daemon: TestDaemon, project: Project): (req: RecordedRequest) => Reply {
  serving.current = daemon;
  const faults = new Map<number, Promise<unknown>>();
  const fault: Record<number, () => Promise<unknown>> = {
    [STOP_AT]: () => serving.current!.stop(),
    [RESTART_AT]: async () => (serving.current = await startDaemon(daemon.home)),
  };
  return (req) => {
    const i = answered(req);
    if (i >= CALLS) return { text: "all written" };
    const reply: Reply = { tool: { name: "Write", input: { file_path: join(project.project, `f${i}.txt`), content: `call ${i}\n` } } };
    if (!fault[i]) return reply;
    if (!faults.has(i)) faults.set(i, fault[i]!());
    return { ...reply, until: faults.get(i)! };
  };
}

test("Writes made while the daemon was down are recovered from the transcript when it is back, once, and not again after another restart", () => {
  const serving: Serving = {};
  return withClaudeProject(
    { scriptFor: (daemon, project) => writesWithGap(serving, daemon, project) },
    async ({ daemon, project: p, api }) => {
      let current = serving.current;
      try {
        current = serving.current;
        const install = cpwd(daemon.home, ["hooks", "install", "--transport", "http", "--dir", p.project], { HOME: p.home });
        assert.equal(install.code, 0, install.stderr);
        const env = claudeEnv(api.url, p.home, { CPWD_HOME: daemon.home, CPWD_AUTOSTART: "0" });
        const run = await runClaude({ cwd: p.project, prompt: "write the files", env });
        current = serving.current;
        assert.equal(run.result?.subtype, "success", run.stderr.slice(0, 2_000));
        const session = run.result.session_id as string;
        const file = (i: number) => join(p.project, `f${i}.txt`);
        for (let i = 0; i < CALLS; i++) assert.ok(existsSync(file(i)), `call ${i}'s Write ran`);

        const mine = () => events(daemon.paths.events).filter((e) => e.session === session);
        await waitFor("SessionEnd in the record", () => mine().some((e) => e.type === "hook.SessionEnd"), 20_000, 100);
        const missed = (i: number) => i >= STOP_AT && i < RESTART_AT;
        for (let i = 0; i < CALLS; i++) {
          const pre = mine().filter((e) => e.type === "hook.PreToolUse" && e.payload.filePath === file(i));
          assert.equal(pre.length, missed(i) ? 0 : 1, `call ${i}'s PreToolUse (daemon ${missed(i) ? "down" : "up"})`);
        }
        const recovered = () => mine().filter((e) => e.type === "hook.recovered");
        assert.deepEqual(recovered().map((e) => e.payload.filePath), [file(2), file(3)], "the missed Writes, in order, once each");
        for (const e of recovered()) {
          assert.equal(e.source, "daemon");
          assert.equal(e.payload.recovered, true);
          assert.equal(e.payload.tool, "Write");
          assert.match(e.payload.toolUseId, /^toolu_/);
          assert.ok(!Number.isNaN(Date.parse(e.payload.at)), "the time of the call, from the transcript");
        }
        assert.ok(!JSON.stringify(mine()).includes("call 2\\n"), "no file contents in the record");

        // A second restart, and the session resumed: its next hook calls find nothing more to recover.
        await current!.stop();
        current = await startDaemon(daemon.home);
        const again = await runClaude({ cwd: p.project, prompt: "anything else?", env, args: ["--resume", session] });
        assert.equal(again.result?.subtype, "success", again.stderr.slice(0, 2_000));
        assert.equal(again.result.session_id, session, "resumed as the same session");
        await waitFor("the resumed session's UserPromptSubmit", () => mine().some((e) => e.type === "hook.UserPromptSubmit" && e.seq > recovered().at(-1)!.seq), 20_000, 100);
        await waitFor("the resumed session's end", () => mine().filter((e) => e.type === "hook.SessionEnd").length === 2, 20_000, 100);
        assert.equal(recovered().length, 2, "nothing recovered twice");
      } finally {
        current = serving.current ?? current;
        if (current && current !== daemon) await current.stop();
      }
    },
  );
});

test("with the shim transport the calls made while the daemon was down come through the fallback log, and none is recovered again", () => {
  const serving: Serving = {};
  return withClaudeProject(
    { scriptFor: (daemon, project) => writesWithGap(serving, daemon, project) },
    async ({ daemon, project: p, api }) => {
      try {
        const install = cpwd(daemon.home, ["hooks", "install", "--dir", p.project], { HOME: p.home });
        assert.equal(install.code, 0, install.stderr);
        const run = await runClaude({ cwd: p.project, prompt: "write the files", env: claudeEnv(api.url, p.home, { CPWD_HOME: daemon.home, CPWD_AUTOSTART: "0" }) });
        assert.equal(run.result?.subtype, "success", run.stderr.slice(0, 2_000));
        const session = run.result.session_id as string;
        const mine = () => events(daemon.paths.events).filter((e) => e.session === session);
        await waitFor("SessionEnd in the record", () => mine().some((e) => e.type === "hook.SessionEnd"), 20_000, 100);
        const file = (i: number) => join(p.project, `f${i}.txt`);
        for (let i = 0; i < CALLS; i++) {
          const pre = mine().filter((e) => e.type === "hook.PreToolUse" && e.payload.filePath === file(i));
          assert.equal(pre.length, 1, `call ${i}'s PreToolUse, once`);
          assert.equal(pre[0]!.source, i >= STOP_AT && i < RESTART_AT ? "fallback" : "hook");
        }
        assert.deepEqual(mine().filter((e) => e.type === "hook.recovered"), [], "the fallback log had them: nothing to recover");
      } finally {
        if (serving.current && serving.current !== daemon) await serving.current.stop();
      }
    },
  );
});
