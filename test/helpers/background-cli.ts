// The CLI running in the background (`events --follow`, `ui`): its output so far, a signal to stop
// it, and its end. Killed with SIGKILL if it outlives `limitMs`, so a test never leaves it behind.
import { spawn, type ChildProcess } from "node:child_process";
import { CLI, testEnv } from "./daemon.js";

export interface BackgroundCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null after a signal). */
  done: Promise<number | null>;
  /** Sends SIGTERM and waits for the end (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
}

export function startCli(home: string, args: string[], limitMs = 60_000): BackgroundCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: testEnv(home), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const limit = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const done = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(limit);
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const hard = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await done;
        clearTimeout(hard);
      }
      return done;
    },
  };
}
