// `cpwd logs` on a Claude worker, through the real daemon: a worker marked the way `cpwd claude`
// marks one (meta.kind "claude") prints a stream recorded from the real Claude Code CLI; the command
// renders it as a transcript, gives it back byte for byte with --raw, follows it live with -f, and
// puts times on lines with --timestamps (any worker's).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { renderTranscript } from "../../cli/format/transcript.js";
import { CLAUDE_BIN, claudeEnv, makeProject } from "../helpers/claude.js";
import { CLI, cleanup, cpwd, REPO, startDaemon, testEnv, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { startFakeApi, toolThenText } from "../helpers/fake-messages-api.js";

const FIXTURE = join(REPO, "test", "fixtures", "claude", "stream-refused-write.jsonl");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Prints the recorded stream a line at a time, `gapMs` apart, as a running claude would. */
function slowCat(file: string, gapMs: number): string[] {
  const js = `const ls=require("fs").readFileSync(process.argv[1],"utf8").split(/(?<=\\n)/);let i=0;const t=setInterval(()=>{if(i<ls.length)process.stdout.write(ls[i++]);else clearInterval(t)},${gapMs});`;
  return [process.execPath, "-e", js, file];
}

/** Runs the CLI with its output as bytes. */
function cpwdBytes(home: string, args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: testEnv(home), timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** The CLI running in the background (`logs -f` ends with the worker): its output so far, and its end. */
function startCpwd(home: string, args: string[]): { output: () => string; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: testEnv(home), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { output: () => stdout, done };
}

describe("cpwd logs on a Claude worker", () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await cleanup(d);
  });

  async function spawnWorker(argv: string[], meta: Record<string, unknown>): Promise<string> {
    const c = await d.client();
    try {
      const { worker } = await c.call("worker.spawn", { argv, cwd: REPO, env: { PATH: process.env.PATH ?? "" }, meta } as never);
      return String(worker.id);
    } finally {
      c.close();
    }
  }

  async function ended(id: string, timeoutMs = 15_000): Promise<void> {
    const c = await d.client();
    try {
      await waitFor(`${id} to end`, async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "exited", timeoutMs, 50);
    } finally {
      c.close();
    }
  }

  test("renders the recorded stream: tool calls with their input, the refusal, and the result with turns and cost", async () => {
    const id = await spawnWorker(["cat", FIXTURE], { kind: "claude", prompt: "list the folder, then write np.txt" });
    await ended(id);
    const r = cpwd(d.home, ["logs", id]);
    assert.equal(r.code, 0, r.stderr);
    const expected = renderTranscript(readFileSync(FIXTURE, "utf8"));
    assert.equal(r.stdout, `${expected.join("\n")}\n`);
    assert.match(r.stdout, /^⏺ Bash\(ls -la && echo hello from bash\)$/m);
    assert.match(r.stdout, /^ {2}✗ refused: Write np\.txt — Claude requested permissions to write to .*np\.txt, but you haven't granted it yet\.$/m);
    assert.match(r.stdout, /^── success · 3 turns · \$0\.0004 · 1\.7s\n── 1 action was refused: Write np\.txt$/m);
    assert.doesNotMatch(r.stdout, /"type":/, "no stream-json");
    // -n counts transcript lines.
    assert.equal(cpwd(d.home, ["logs", id, "-n", "2"]).stdout, `${expected.slice(-2).join("\n")}\n`);
  });

  test("a real `cpwd claude` worker (Claude Code against the fake API) whose Write was refused: the transcript shows the call, the refusal and the result", async () => {
    const p = makeProject({});
    const target = join(p.project, "np.txt");
    const api = await startFakeApi(toolThenText({ name: "Write", input: { file_path: target, content: "x\n" } }, "I could not write np.txt."));
    try {
      const env = { ...claudeEnv(api.url, p.home), CPWD_CLAUDE_BIN: CLAUDE_BIN } as Record<string, string>;
      const spawned = cpwd(d.home, ["claude", "--cwd", p.project, "--permission-mode", "dontAsk", "write np.txt"], env);
      assert.equal(spawned.code, 0, spawned.stderr);
      const id = spawned.stdout.trim();
      await ended(id, 60_000);
      const r = cpwd(d.home, ["logs", id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^── .*permission mode dontAsk · in /m);
      assert.match(r.stdout, /^⏺ Write\(np\.txt\)\n {2}✗ refused: Write np\.txt — .+$/m);
      assert.match(r.stdout, /^I could not write np\.txt\.\n── success · 2 turns · \$\d+\.\d{4} · .+\n── 1 action was refused: Write np\.txt\n$/m);
      const stream = readFileSync(join(d.paths.workers, id, "logs", "stdout.log"));
      assert.ok(cpwdBytes(d.home, ["logs", id, "--raw"]).stdout.equals(stream));
    } finally {
      await api.close();
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  test("--raw gives the stream back byte for byte", async () => {
    const id = await spawnWorker(["cat", FIXTURE], { kind: "claude" });
    await ended(id);
    const r = cpwdBytes(d.home, ["logs", id, "--raw"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(readFileSync(FIXTURE)), "the bytes of the fixture");
  });

  test("a worker that is not a Claude worker is printed as it is, JSON or not", async () => {
    const id = await spawnWorker(["cat", FIXTURE], {});
    await ended(id);
    assert.ok(cpwdBytes(d.home, ["logs", id]).stdout.equals(readFileSync(FIXTURE)));
  });

  test("-f renders the stream live, as it is written, and ends with the worker", async () => {
    const id = await spawnWorker(slowCat(FIXTURE, 150), { kind: "claude" });
    const r = await startCpwd(d.home, ["logs", id, "-f", "--timestamps"]).done;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    const texts = lines.map((l) => l.slice(25));
    assert.deepEqual(texts, renderTranscript(readFileSync(FIXTURE, "utf8")));
    const times = lines.map((l) => l.slice(0, 24));
    const bash = texts.findIndex((t) => t.startsWith("⏺ Bash("));
    assert.equal(times[bash], "2026-11-27T20:53:06.662Z", "an assistant message shows the time Claude Code wrote it");
    const result = texts.findIndex((t) => t.startsWith("── success"));
    assert.match(times[result]!, ISO, "the result line (no time of its own) shows when it was written");
    assert.ok(Math.abs(Date.parse(times[result]!) - Date.now()) < 60_000);
  });

  test("--timestamps on any worker: lines read while following show when they were written", async () => {
    // The worker prints "one" and, a second later, "two" only once `logs -f` is seen following.
    const go = join(d.home, "go");
    const id = await spawnWorker(["/bin/sh", "-c", `echo ready; while [ ! -e '${go}' ]; do sleep 0.05; done; echo one; sleep 1; echo two`], {});
    const logs = startCpwd(d.home, ["logs", id, "-f", "-t"]);
    await waitFor("logs -f to print the first line", () => logs.output().includes(" ready\n"), 15_000);
    writeFileSync(go, "");
    const r = await logs.done;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n").map((l) => ({ time: l.slice(0, 24), text: l.slice(25) }));
    assert.deepEqual(lines.map((l) => l.text), ["ready", "one", "two"]);
    for (const l of lines) assert.match(l.time, ISO, "the last line there, then each line as it came");
    const gapMs = Date.parse(lines[2]!.time) - Date.parse(lines[1]!.time);
    assert.ok(gapMs >= 800 && gapMs < 5_000, `written about 1 s apart (${gapMs} ms)`);
    // Read afterwards, the same times: output.log records each line's (worker-logs-order.test.ts).
    const again = cpwd(d.home, ["logs", id, "--timestamps"]).stdout.trimEnd().split("\n");
    assert.deepEqual(again, r.stdout.trimEnd().split("\n"));
    // One stream, timed, is read from output.log too.
    assert.deepEqual(cpwd(d.home, ["logs", id, "--stdout", "--timestamps"]).stdout.trimEnd().split("\n"), again);
  });
});
