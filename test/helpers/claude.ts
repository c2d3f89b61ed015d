// Runs the real, pinned Claude Code CLI offline against the fake Messages API, in a project folder
// of its own with an isolated HOME, so the user's ~/.claude is never read or written.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./daemon.js";
import { startFakeApi, type FakeApi, type RecordedRequest, type Reply } from "./fake-messages-api.js";

export const CLAUDE_BIN = process.env.CPWD_CLAUDE_BIN ?? join(REPO, "node_modules", ".bin", "claude");

/** The environment that points Claude Code at the fake and away from the network. */
export function claudeEnv(apiUrl: string, home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: "sk-test",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    ...extra,
  };
}

/** A temp project with `.claude/settings.json` and an empty HOME beside it. */
export function makeProject(settings: unknown): { dir: string; project: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-cc-"));
  const project = join(dir, "project");
  const home = join(dir, "home");
  mkdirSync(join(project, ".claude"), { recursive: true });
  mkdirSync(home);
  writeFileSync(join(project, ".claude", "settings.json"), JSON.stringify(settings, null, 2));
  return { dir, project, home };
}

/** What withFakeClaude gives a test: a project, the fake API, and the env a `cpwd claude` needs to reach it. */
export interface FakeClaude {
  project: string;
  api: FakeApi;
  /** For `cpwd claude`: Claude Code's offline env (HOME beside the project) and CPWD_CLAUDE_BIN. */
  env: Record<string, string>;
}

/**
 * Runs `body` with a temp project (no hooks), the fake Messages API answering with `script`, and
 * the env a `cpwd claude` worker needs to reach it; the fake is closed and the folder removed after.
 */
export async function withFakeClaude<T>(script: (req: RecordedRequest) => Reply, body: (f: FakeClaude) => Promise<T>): Promise<T> {
  const p = makeProject({});
  const api = await startFakeApi(script);
  try {
    return await body({ project: p.project, api, env: { ...(claudeEnv(api.url, p.home) as Record<string, string>), CPWD_CLAUDE_BIN: CLAUDE_BIN } });
  } finally {
    await api.close();
    rmSync(p.dir, { recursive: true, force: true });
  }
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: any[];
  result: any;
}

/** `claude -p PROMPT --output-format stream-json --verbose` to completion (killed at the timeout). */
export function runClaude(opts: { cwd: string; prompt: string; env: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number }): Promise<ClaudeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE_BIN, ["-p", opts.prompt, "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits", ...(opts.args ?? [])], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const lines = stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
      resolve({ code, stdout, stderr, lines, result: lines.find((l) => l.type === "result") });
    });
  });
}

/** Hook settings that run the given command for every event cpwd reacts to (as `cpwd hooks install` registers them). */
export function hookSettings(command: string): unknown {
  const entry = [{ hooks: [{ type: "command", command, timeout: 5 }] }];
  const tool = [{ matcher: "*", hooks: [{ type: "command", command, timeout: 5 }] }];
  return {
    hooks: {
      SessionStart: entry,
      UserPromptSubmit: entry,
      PreToolUse: tool,
      PostToolUse: tool,
      PostToolUseFailure: tool,
      PermissionDenied: tool,
      Stop: entry,
      SubagentStart: entry,
      SubagentStop: entry,
      TaskCreated: entry,
      TaskCompleted: entry,
      TeammateIdle: entry,
      SessionEnd: entry,
    },
  };
}
