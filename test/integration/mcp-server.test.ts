// `cpwd mcp` driven over stdio by the MCP SDK's own client: the tools it lists, a worker started,
// gathered, read and stopped through them, the daemon started when none runs, and bad arguments
// answered as tool errors with the CLI's messages while the server keeps serving.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { JsonSchemaType } from "@modelcontextprotocol/sdk/validation/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { cleanup, cpwd, pidAlive, REPO, startDaemon, tempHome, waitFor } from "../helpers/daemon.js";
import { nodeFixture } from "../helpers/fixtures.js";
import { makeRepo } from "../helpers/git-repo.js";
import { startMcp, type McpSession } from "../helpers/mcp-client.js";

const TOOLS = ["claude_worker", "list_workers", "spawn_worker", "stop_worker", "wait_for_workers", "worker_diff", "worker_logs", "worker_status"];

/**
 * The tool calls of docs/mcp.md's "Fan out, then gather" example: its ```json block, one
 * `{"tool": "mcp__cpwd__NAME", "input": {…}}` a line.
 */
function exampleCalls(doc: string): Array<{ tool: string; input: Record<string, unknown> }> {
  const block = /^## Fan out, then gather$[\s\S]*?^```json\n([\s\S]*?)^```$/m.exec(doc);
  assert.ok(block, "docs/mcp.md has the example's json block");
  return block[1]!.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const call = JSON.parse(line) as { tool: string; input: Record<string, unknown> };
    assert.match(call.tool, /^mcp__cpwd__/, line);
    return { tool: call.tool.slice("mcp__cpwd__".length), input: call.input };
  });
}

/** Closes the server, stops the daemon it started, and removes the home. */
async function shutdown(mcp: McpSession | undefined, home: string): Promise<void> {
  await mcp?.close();
  cpwd(home, ["stop"]);
  await cleanup(undefined, home);
}

describe("cpwd mcp", () => {
  test("lists every tool with described parameters and an output schema", async () => {
    const home = tempHome();
    const mcp = await startMcp(home);
    try {
      const { tools } = await mcp.client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
      for (const t of tools) {
        assert.ok(t.description && t.description.length > 20, t.name);
        assert.equal(t.outputSchema?.type, "object", `${t.name} has an output schema`);
        for (const [param, schema] of Object.entries(t.inputSchema.properties ?? {})) {
          assert.ok(typeof (schema as { description?: unknown }).description === "string" && (schema as { description: string }).description.trim() !== "", `${t.name}.${param} is described`);
        }
      }
      const doc = readFileSync(join(REPO, "docs", "mcp.md"), "utf8");
      for (const t of tools) assert.ok(doc.includes(`| \`${t.name}\` |`), `${t.name} is in docs/mcp.md's table`);
      const wait = tools.find((t) => t.name === "wait_for_workers")!;
      assert.deepEqual((wait.inputSchema.properties as any).timeout_seconds.maximum, 600);
      assert.deepEqual(wait.inputSchema.required, ["workers"]);
    } finally {
      await shutdown(mcp, home);
    }
  });

  test("docs/mcp.md's fan-out example calls listed tools with arguments their input schemas accept", async () => {
    const home = tempHome();
    const mcp = await startMcp(home, { CPWD_AUTOSTART: "0" });
    try {
      const { tools } = await mcp.client.listTools();
      const calls = exampleCalls(readFileSync(join(REPO, "docs", "mcp.md"), "utf8"));
      assert.deepEqual([...new Set(calls.map((c) => c.tool))], ["claude_worker", "wait_for_workers", "worker_diff"]);
      const validator = new AjvJsonSchemaValidator();
      for (const { tool, input } of calls) {
        const schema = tools.find((t) => t.name === tool)!.inputSchema;
        // A misspelt parameter would be dropped silently by the server: the example names none.
        const checked = validator.getValidator({ ...schema, additionalProperties: false } as JsonSchemaType)(input);
        assert.equal(checked.valid, true, `${tool} ${JSON.stringify(input)}: ${checked.errorMessage}`);
      }
    } finally {
      await shutdown(mcp, home);
    }
  });

  test("the SDK is loaded by cpwd mcp alone: only cli/mcp/ imports it, and only cpwd mcp's command loads cli/mcp/, on demand", () => {
    const files = (dir: string): string[] =>
      readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
    for (const f of ["src", "daemon", "hooks", "cli"].flatMap(files)) {
      const text = readFileSync(join(REPO, f), "utf8").replace(/^import type [^;]*;$/gms, "");
      if (!f.startsWith("cli/mcp/")) assert.doesNotMatch(text, /["']@modelcontextprotocol\//, f);
      if (f.startsWith("cli/mcp/") || f === "cli/commands/mcp.ts") continue;
      assert.doesNotMatch(text, /["'](?:\.{1,2}\/)+(?:cli\/)?mcp\//, `${f} does not load cli/mcp/`);
    }
    const command = readFileSync(join(REPO, "cli", "commands", "mcp.ts"), "utf8");
    assert.match(command, /await import\("\.\.\/mcp\/server\.js"\)/);
    assert.doesNotMatch(command, /^import .*mcp\//m);
  });

  test("starts the daemon when none runs; spawn_worker, wait_for_workers, status and logs follow a worker to its end", async () => {
    const home = tempHome();
    const mcp = await startMcp(home, { CLAUDE_CODE_SESSION_ID: "conductor-7" });
    try {
      const spawned = await mcp.call("spawn_worker", { command: nodeFixture("exit.js", "3"), name: "three" });
      assert.equal(spawned.isError, undefined, spawned.text);
      const id = spawned.data.worker.id;
      assert.match(id, /^W\d+$/);
      assert.equal(spawned.data.worker.parentSession, "conductor-7", "the calling session is the parent");
      assert.equal(JSON.parse(spawned.text).worker.id, id, "the text carries the same JSON");

      const waited = await mcp.call("wait_for_workers", { workers: ["three"], timeout_seconds: 30 });
      assert.equal(waited.data.done, true, waited.text);
      assert.equal(waited.data.timedOut, false);
      assert.equal(waited.data.ended[0].id, id);
      assert.equal(waited.data.ended[0].state, "failed");
      assert.equal(waited.data.ended[0].exitCode, 3);
      assert.ok(waited.data.waitedMs < 10_000);

      const status = await mcp.call("worker_status", { worker: id });
      assert.equal(status.data.workers[0].exitCode, 3);
      const list = await mcp.call("list_workers");
      assert.deepEqual(list.data.workers.map((w: any) => w.name), ["three"]);
      const logs = await mcp.call("worker_logs", { worker: "three", lines: 5 });
      assert.match(logs.data.stdout.join("\n"), /exit\.js pid \d+ exiting 3/);
      assert.equal(logs.data.truncated, false);
    } finally {
      await shutdown(mcp, home);
    }
  });

  test("wait_for_workers gives up at its timeout with the workers still running; stop_worker ends them", async () => {
    const d = await startDaemon();
    const mcp = await startMcp(d.home);
    try {
      const a = (await mcp.call("spawn_worker", { command: nodeFixture("forever.js"), name: "a" })).data.worker.id;
      const b = (await mcp.call("spawn_worker", { command: nodeFixture("exit.js", "0"), name: "b" })).data.worker.id;
      const any = await mcp.call("wait_for_workers", { workers: [a, b], until: "any", timeout_seconds: 20 });
      assert.equal(any.data.done, true, any.text);
      assert.deepEqual(any.data.ended.map((w: any) => w.id), [b]);
      assert.deepEqual(any.data.running.map((w: any) => w.id), [a]);

      const started = Date.now();
      const all = await mcp.call("wait_for_workers", { workers: [a, b], timeout_seconds: 1 });
      assert.equal(all.data.done, false);
      assert.equal(all.data.timedOut, true);
      assert.ok(Date.now() - started >= 1_000 && Date.now() - started < 5_000);

      const stopped = await mcp.call("stop_worker", { worker: "a", grace: "2s" });
      assert.equal(stopped.isError, undefined, stopped.text);
      assert.equal(stopped.data.workers[0].id, a);
      const gathered = await mcp.call("wait_for_workers", { workers: ["a"], timeout_seconds: 20 });
      assert.equal(gathered.data.ended[0].state, "stopped");
    } finally {
      await mcp.close();
      await cleanup(d);
    }
  });

  test("spawn_worker hands its restart options and grace to the daemon as cpwd spawn's flags would", async () => {
    const d = await startDaemon();
    const mcp = await startMcp(d.home);
    try {
      const options = { restart: "on-failure", max_restarts: 2, restart_window: "1m", min_uptime: "5s", backoff: "200ms..2s", grace: "3s" };
      const spawned = await mcp.call("spawn_worker", { command: nodeFixture("exit.js", "0"), name: "kept", ...options });
      assert.equal(spawned.isError, undefined, spawned.text);
      const described = cpwd(d.home, ["status", spawned.data.worker.id, "--json"]);
      assert.equal(described.code, 0, described.stderr);
      const { spec } = JSON.parse(described.stdout);
      assert.deepEqual(spec.restart, { mode: "on-failure", maxRestarts: 2, windowMs: 60_000, backoffBaseMs: 200, backoffMaxMs: 2_000, minUptimeMs: 5_000 });
      assert.equal(spec.graceMs, 3_000);
    } finally {
      await mcp.close();
      await cleanup(d);
    }
  });

  test("claude_worker builds the command cpwd claude builds, with the calling session as parent", async () => {
    const d = await startDaemon();
    const bin = join(d.home, "fakeclaude");
    writeFileSync(bin, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const mcp = await startMcp(d.home, { CPWD_CLAUDE_BIN: bin, CLAUDE_CODE_SESSION_ID: "conductor-9" });
    try {
      const args = { prompt: "- list the files", name: "lister", model: "opus", permission_mode: "plan", max_turns: 4, max_cost_usd: 0.5, env: { FOO: "bar" }, claude_options: ["--allowedTools", "Bash(ls:*)"] };
      const r = await mcp.call("claude_worker", args);
      assert.equal(r.isError, undefined, r.text);
      assert.equal(r.data.worker.kind, "claude");
      assert.equal(r.data.worker.parentSession, "conductor-9");
      const c = await d.client();
      const w = (await c.call("worker.get", { target: "lister" })).workers[0] as any;
      c.close();
      assert.deepEqual(w.command.slice(0, 6), [bin, "-p", " - list the files", "--output-format", "stream-json", "--verbose"]);
      const rest = w.command.slice(6).join(" ");
      for (const part of ["--model opus", "--max-turns 4", "--permission-mode plan", "--max-budget-usd 0.5", "--allowedTools Bash(ls:*)"]) assert.ok(rest.includes(part), `${part} in ${rest}`);
      assert.equal(w.meta.maxCostUsd, 0.5);
    } finally {
      await mcp.close();
      await cleanup(d);
    }
  });

  test("worker_diff shows a worktree worker's changes, as cpwd diff does", async () => {
    const d = await startDaemon();
    const repo = makeRepo(join(d.home, "repo"), { "a.txt": "a\n" });
    // A stand-in for claude: it edits a file where it runs (the worktree) and exits.
    const bin = join(d.home, "fakeclaude");
    writeFileSync(bin, "#!/bin/sh\necho edited > a.txt\necho new > b.txt\n", { mode: 0o755 });
    const mcp = await startMcp(d.home, { CPWD_CLAUDE_BIN: bin }, repo);
    try {
      const started = await mcp.call("claude_worker", { prompt: "edit", worktree: true });
      assert.equal(started.isError, undefined, started.text);
      const id = started.data.worker.id;
      assert.equal(started.data.worker.worktree.branch, `cpwd/${id}`);
      assert.equal((await mcp.call("wait_for_workers", { workers: [id], timeout_seconds: 30 })).data.done, true);
      const diff = await mcp.call("worker_diff", { worker: id });
      assert.equal(diff.isError, undefined, diff.text);
      const text = diff.data.diff.join("\n");
      assert.match(text, /^-a$[\s\S]*^\+edited$/m);
      assert.match(text, /^\+\+\+ b\/b\.txt$[\s\S]*^\+new$/m, "a new file too");
      const stat = await mcp.call("worker_diff", { worker: id, stat: true });
      assert.match(stat.data.diff.at(-1), /2 files changed/);
    } finally {
      await mcp.close();
      await cleanup(d);
    }
  });

  test("a bad argument is a tool error with the CLI's message, and the server keeps serving", async () => {
    const d = await startDaemon();
    const mcp = await startMcp(d.home, { CPWD_CLAUDE_BIN: "/nonexistent/claude" });
    try {
      const errors: Array<[string, Record<string, unknown>, RegExp]> = [
        ["spawn_worker", { command: ["true"], timeout: "soon" }, /^cpwd spawn: --timeout: 'soon' is not a duration/],
        ["spawn_worker", { command: ["true"], cwd: "/nonexistent" }, /^cpwd spawn: --cwd \/nonexistent does not exist/],
        ["spawn_worker", { command: [] }, /command/],
        ["wait_for_workers", { workers: ["nope"] }, /no worker nope/],
        ["wait_for_workers", { workers: ["x"], timeout_seconds: 601 }, /timeout_seconds/],
        ["claude_worker", { prompt: "hello" }, /^cpwd claude: \/nonexistent\/claude not found; install Claude Code/],
        ["claude_worker", { prompt: "hello", max_turns: 0 }, /max_turns/],
        ["claude_worker", { prompt: "hello", claude_options: ["-p"] }, /^cpwd claude: .*-p/],
        ["stop_worker", { worker: "W99" }, /^cpwd stop W99: no worker W99/],
        ["stop_worker", { worker: "all", grace: "x" }, /^cpwd stop: --grace: 'x' is not a duration/],
        ["worker_logs", { worker: "W99" }, /^cpwd logs: no worker W99/],
        ["worker_diff", { worker: "W99" }, /^cpwd diff: no worker W99/],
        ["worker_status", { worker: "W99" }, /^cpwd status: no worker W99/],
      ];
      for (const [tool, args, message] of errors) {
        const r = await mcp.call(tool, args);
        assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)}: ${r.text}`);
        assert.match(r.text, message, tool);
        assert.doesNotMatch(r.text, /usage:|\n\s+at /, "no usage text or stack");
      }
      const id = (await mcp.call("spawn_worker", { command: nodeFixture("exit.js", "0") })).data.worker.id;
      const diff = await mcp.call("worker_diff", { worker: id });
      assert.match(diff.text, new RegExp(`^cpwd diff: ${id} has no worktree of its own`));
      assert.equal((await mcp.call("list_workers")).data.workers.length, 1, "still serving");
      const c = await d.client();
      assert.equal((await c.call("worker.list")).workers.length, 1, "no bad call started a worker");
      c.close();
    } finally {
      await mcp.close();
      await cleanup(d);
    }
  });

  test("with autostart off and no daemon, a tool says the daemon is not running; the server exits when its client goes", async () => {
    const home = tempHome();
    const mcp = await startMcp(home, { CPWD_AUTOSTART: "0" });
    try {
      const r = await mcp.call("list_workers");
      assert.equal(r.isError, true);
      assert.match(r.text, /the daemon is not running \(home .*\); start it with `cpwd start`/);
      await mcp.close();
      await waitFor("the server to exit", () => !pidAlive(mcp.pid), 5_000);
    } finally {
      await shutdown(undefined, home);
    }
  });
});
