// End to end with the real Claude Code CLI against the fake Messages API: a Claude worker always
// runs with an explicit permission mode; by default it edits what it is asked to; a refused edit
// is never a silent success (status, status --json, the conductor's digest) and gives its claim
// back at once; options after `--` reach the CLI, those cpwd controls are refused.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cleanup, cpwd, startDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv, hookSettings, makeProject } from "../helpers/claude.js";
import { startFakeApi, toolResults, type FakeApi, type RecordedRequest, type Reply } from "../helpers/fake-messages-api.js";
import { SHIM } from "../helpers/shim.js";

const shimCommand = `${JSON.stringify(process.execPath)} ${JSON.stringify(SHIM)}`;

/** The record's complete lines (the daemon may be writing the next one). */
function events(d: TestDaemon): any[] {
  return readFileSync(d.paths.events, "utf8").split("\n").slice(0, -1).map((l) => JSON.parse(l));
}

/** A session that writes np.txt, then says `finalText` (after `delayMs`: a slow model). */
function writesNp(project: string, finalText: string, delayMs = 0): (req: RecordedRequest) => Reply {
  return (req) => (toolResults(req).length > 0 ? { text: finalText, delayMs } : { tool: { name: "Write", input: { file_path: join(project, "np.txt"), content: "hello\n" } } });
}

/** Starts a daemon, a project with cpwd's hooks, the fake; runs `body`; cleans everything up. */
async function withSetup(script: (project: string) => (req: RecordedRequest) => Reply, body: (d: TestDaemon, project: string, env: Record<string, string>, api: FakeApi) => Promise<void>): Promise<void> {
  const d = await startDaemon();
  const p = makeProject(hookSettings(shimCommand));
  const api = await startFakeApi(script(p.project));
  try {
    const env = { ...claudeEnv(api.url, p.home), CPWD_CLAUDE_BIN: CLAUDE_BIN, CPWD_AUTOSTART: "0" } as Record<string, string>;
    await body(d, p.project, env, api);
  } finally {
    await api.close();
    await cleanup(d);
    rmSync(p.dir, { recursive: true, force: true });
  }
}

/** The worker's view once it has exited and its result is read. */
async function finished(d: TestDaemon, id: string): Promise<any> {
  const c = await d.client();
  try {
    return await waitFor(`${id} to finish with its result`, async () => {
      const w = (await c.call("worker.get", { target: id })).workers[0] as any;
      return w.state === "exited" && w.claude?.done ? w : null;
    }, 60_000, 100);
  } finally {
    c.close();
  }
}

describe("Claude workers' permissions", () => {
  test("with no permission flag and no config, a worker edits the file it is asked to (acceptEdits), and says it ran so", async () => {
    await withSetup((project) => writesNp(project, "Wrote np.txt."), async (d, project, env) => {
      const r = cpwd(d.home, ["claude", "--cwd", project, "write np.txt"], env);
      assert.equal(r.code, 0, r.stderr);
      const w = await finished(d, r.stdout.trim());
      assert.equal(readFileSync(join(project, "np.txt"), "utf8"), "hello\n");
      assert.equal(w.meta.permissionMode, "acceptEdits");
      assert.deepEqual(w.command.slice(-2), ["--permission-mode", "acceptEdits"]);
      assert.equal(w.claude.permissionMode, "acceptEdits", "Claude Code's own init line agrees");
      assert.deepEqual([w.claude.refusedCount, w.claude.edits, w.claude.needsAttention], [0, 1, false]);
      assert.doesNotMatch(cpwd(d.home, ["status"]).stdout, /refused|attention/);
      // The edit happened: its claim stayed until the worker ended.
      const released = events(d).filter((e) => e.type === "claim.released").map((e) => e.payload.reason);
      assert.deepEqual(released, ["worker exited"]);
    });
  });

  test("a Write the mode refuses: its claim goes at once; status, status --json and the conductor's next digest say the run needs attention", async () => {
    await withSetup((project) => writesNp(project, "I could not write np.txt: permission was not granted.", 1_500), async (d, project, env) => {
      const c = await d.client();
      try {
        await c.call("hook.handle", { event: { hook_event_name: "SessionStart", session_id: "conductor", cwd: project, source: "startup" } });
        const r = cpwd(d.home, ["claude", "--name", "np", "--cwd", project, "--permission-mode", "dontAsk", "write np.txt"], env);
        assert.equal(r.code, 0, r.stderr);
        const id = r.stdout.trim();
        // Released while the worker still runs (its model is slow to answer), for the refusal.
        const release = await waitFor("the refused Write's claim to go", () => events(d).find((e) => e.type === "claim.released"), 30_000, 50);
        assert.equal(release.payload.reason, "the edit was refused");
        assert.equal(release.payload.path, join(project, "np.txt"));
        assert.ok(!events(d).some((e) => e.type === "worker.exited" && e.seq < release.seq), "released before the worker ended");
        // The release is durable before the daemon's table applies it: ask until it has.
        await waitFor("the claim to be gone from claims.list", async () => (await c.call("claims.list")).claims.length === 0, 5_000, 20);

        const w = await finished(d, id);
        assert.equal(existsSync(join(project, "np.txt")), false);
        const denied = events(d).filter((e) => e.type === "permission.denied");
        assert.deepEqual(denied.map((e) => [e.worker, e.payload.tool, e.payload.target]), [[id, "Write", "np.txt"]]);

        const json = JSON.parse(cpwd(d.home, ["status", "--json"]).stdout).workers[0];
        assert.equal(json.meta.permissionMode, "dontAsk");
        assert.equal(json.claude.needsAttention, true);
        assert.deepEqual(json.claude.refused.map((a: any) => `${a.tool} ${a.target}`), ["Write np.txt"]);
        assert.match(json.claude.refused[0].reason, /^Permission to use Write has been denied because Claude Code is running in don't ask mode/);
        assert.equal(w.claude.subtype, "success", "Claude Code calls it a success: only the refusals tell");
        assert.match(cpwd(d.home, ["status"]).stdout, new RegExp(`\\n${id} needs attention: every edit was refused \\(Write np\\.txt; permission mode dontAsk\\)`));

        const reply = (await c.call("hook.handle", { event: { hook_event_name: "UserPromptSubmit", session_id: "conductor", cwd: project, prompt: "next" } })) as any;
        const digest = reply.output.hookSpecificOutput.additionalContext as string;
        assert.match(digest, new RegExp(`- ${id} "np" exited 0 after \\d+s \\(\\$[\\d.]+, 2 turns\\), but it needs attention: every edit was refused \\(Write np\\.txt; permission mode dontAsk\\): I could not write np\\.txt`));
      } finally {
        c.close();
      }
    });
  });

  test("options after -- reach the CLI: --allowedTools Write lets a dontAsk worker write (the fake sees the Write succeed)", async () => {
    await withSetup((project) => writesNp(project, "Wrote it."), async (d, project, env, api) => {
      const r = cpwd(d.home, ["claude", "--cwd", project, "--permission-mode", "dontAsk", "write np.txt", "--", "--allowedTools", "Write"], env);
      assert.equal(r.code, 0, r.stderr);
      const w = await finished(d, r.stdout.trim());
      assert.deepEqual(w.command.slice(-4), ["--permission-mode", "dontAsk", "--allowedTools", "Write"]);
      const answered = api.turns().find((req) => toolResults(req).length > 0)!;
      assert.equal(toolResults(answered)[0]!.is_error ?? false, false, "the model was told the Write succeeded");
      assert.equal(readFileSync(join(project, "np.txt"), "utf8"), "hello\n");
      assert.equal(w.claude.refusedCount, 0);
    });
  });

  test("-- -p is refused before anything starts, naming what to do instead", async () => {
    await withSetup((project) => writesNp(project, "unused"), async (d, project, env, api) => {
      const r = cpwd(d.home, ["claude", "--cwd", project, "write np.txt", "--", "-p", "something else"], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^cpwd claude: -p after -- is cpwd's to set: cpwd claude runs print mode itself: give the prompt as its argument/);
      const resume = cpwd(d.home, ["claude", "--cwd", project, "go on", "--", "--resume", "abc"], env);
      assert.match(resume.stderr, /--resume after -- is cpwd's to set: cpwd claude --resume W3 "PROMPT"/);
      assert.deepEqual(JSON.parse(cpwd(d.home, ["status", "--json"]).stdout).workers, []);
      assert.equal(api.turns().length, 0);
    });
  });
});
