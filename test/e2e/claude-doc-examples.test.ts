// The `cpwd claude` commands README.md and the installed skill teach work as written: each is read
// from the text, run as it stands in a fresh git repository (the real Claude Code CLI, the fake
// Messages API playing a model that does what the prompt asks), and does its job with nothing
// refused.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SKILL_TEXT } from "../../cli/hooks-install/skill.js";
import { CLI, cleanup, REPO, startDaemon, testEnv, waitFor } from "../helpers/daemon.js";
import { CLAUDE_BIN, claudeEnv, hookSettings } from "../helpers/claude.js";
import { startFakeApi, toolResults, toolsThenText } from "../helpers/fake-messages-api.js";
import { SHIM } from "../helpers/shim.js";

/** A command line as a POSIX shell splits it: double-quoted words kept whole, a `# comment` dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(#.*$)|(\S+)/g)) {
    if (m[2] !== undefined) break;
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[3]!);
  }
  return words;
}

const readmeExamples = readFileSync(join(REPO, "README.md"), "utf8").split("\n").filter((l) => l.startsWith("cpwd claude "));
const skillExamples = [...SKILL_TEXT.matchAll(/`(cpwd claude [^`]+)`/g)].map((m) => m[1]!);

/** What a model doing the job would do, by the worker's name in the example. */
function session(name: string, worktree: string) {
  if (name === "refactor") {
    const big = join(worktree, "src", "big.ts");
    return toolsThenText([
      { name: "Read", input: { file_path: big } },
      { name: "Write", input: { file_path: join(worktree, "src", "parser.ts"), content: "export const parse = (s: string) => s.trim();\n" } },
      { name: "Edit", input: { file_path: big, old_string: "export const parse = (s: string) => s.trim();", new_string: 'export { parse } from "./parser";' } },
    ], "Moved parse into src/parser.ts.");
  }
  return toolsThenText([
    { name: "Write", input: { file_path: join(worktree, "test", "parse.test.js"), content: "console.log('1 test passed');\n" } },
    { name: "Bash", input: { command: "npm test", description: "Run the tests" } },
  ], "The tests pass.");
}

function makeRepo(dir: string): string {
  const repo = join(dir, "repo");
  mkdirSync(join(repo, "src"), { recursive: true });
  writeFileSync(join(repo, "src", "big.ts"), "export const parse = (s: string) => s.trim();\nexport const other = 1;\n");
  writeFileSync(join(repo, "package.json"), JSON.stringify({ name: "example", private: true, scripts: { test: "node test/parse.test.js" } }));
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "."]);
  execFileSync("git", ["-C", repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"]);
  mkdirSync(join(repo, ".claude"));
  writeFileSync(join(repo, ".claude", "settings.json"), JSON.stringify(hookSettings(`${JSON.stringify(process.execPath)} ${JSON.stringify(SHIM)}`)));
  return repo;
}

test("README.md and the skill each show a cpwd claude example", () => {
  assert.ok(readmeExamples.length >= 2, readmeExamples.join("\n"));
  assert.ok(skillExamples.length >= 1);
});

const examples: Array<[string, string]> = [...readmeExamples.map((l): [string, string] => ["README.md", l]), ...skillExamples.map((l): [string, string] => ["the skill", l])];
for (const [where, line] of examples) {
  test(`${where}: ${line}`, async () => {
    const words = shellWords(line);
    const name = words[words.indexOf("--name") + 1]!;
    const d = await startDaemon();
    const dir = join(d.home, "example");
    const repo = makeRepo(dir);
    const worktree = join(d.home, "worktrees", "W1");
    const api = await startFakeApi(session(name, worktree));
    try {
      const env = testEnv(d.home, { ...(claudeEnv(api.url, join(dir, "home")) as Record<string, string>), CPWD_CLAUDE_BIN: CLAUDE_BIN, CPWD_AUTOSTART: "0" });
      mkdirSync(join(dir, "home"));
      const r = spawnSync(process.execPath, [CLI, ...words.slice(1)], { cwd: repo, env, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const c = await d.client();
      const w = await waitFor("the worker to finish", async () => {
        const v = (await c.call("worker.get", { target: "W1" })).workers[0] as any;
        return v.state === "exited" && v.claude?.done ? v : null;
      }, 60_000, 100).finally(() => c.close());
      assert.equal(w.claude.refusedCount, 0, JSON.stringify(w.claude.refused));
      assert.equal(w.claude.needsAttention, false);
      const shown = spawnSync(process.execPath, [CLI, "diff", "W1", "--stat"], { env: testEnv(d.home), encoding: "utf8" });
      const diff = `${shown.stdout}${shown.stderr}`;
      if (name === "refactor") {
        assert.match(diff, /src\/big\.ts/);
        assert.match(diff, /src\/parser\.ts/);
      } else {
        assert.match(diff, /test\/parse\.test\.js/, JSON.stringify({ claude: w.claude, results: api.turns().map((req) => toolResults(req)) }).slice(0, 3000));
        const ran = api.turns().map((req) => toolResults(req)).find((results) => JSON.stringify(results).includes("1 test passed"));
        assert.ok(ran, "npm test ran and the model saw its output");
      }
    } finally {
      await api.close();
      await cleanup(d);
    }
  });
}
