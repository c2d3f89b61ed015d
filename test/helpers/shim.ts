// Runs the compiled hook shim as Claude Code would: JSON on stdin, env, and a wall-clock measure.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO, testEnv } from "./daemon.js";

/** The shim as installed: the bundled bin (package.json `cpwd-hook`). */
export const SHIM = join(REPO, "dist", "hooks", "cpwd-hook.cjs");

export interface ShimRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  json: any;
}

export function runShim(home: string, input: unknown, extra: Record<string, string> = {}): Promise<ShimRun> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [SHIM], { env: testEnv(home, { CPWD_AUTOSTART: "0", ...extra }), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      let json: unknown = null;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : null;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, ms: Date.now() - t0, json });
    });
    // The shim stops reading past its 4 MiB limit: the rest of a huge input meets a closed pipe.
    child.stdin.on("error", () => undefined);
    child.stdin.end(typeof input === "string" ? input : JSON.stringify(input));
  });
}

/** A PreToolUse payload for a Write, as Claude Code sends it. */
export function preWrite(session: string, filePath: string, cwd = "/repo") {
  return {
    session_id: session,
    transcript_path: "/tmp/t.jsonl",
    cwd,
    hook_event_name: "PreToolUse",
    tool_name: "Write",
    tool_input: { file_path: filePath, content: "x" },
    tool_use_id: "toolu_1",
    permission_mode: "acceptEdits",
    some_future_field: { kept: true },
  };
}
