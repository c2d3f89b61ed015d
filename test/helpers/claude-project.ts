// A daemon, a Claude Code project and the fake Messages API together, for the end-to-end tests
// that run the real Claude Code CLI against cpwd: set up in one call, and always taken down.
import { rmSync } from "node:fs";
import { makeProject } from "./claude.js";
import { cleanup, startDaemon, type TestDaemon } from "./daemon.js";
import { startFakeApi, type FakeApi, type RecordedRequest, type Reply } from "./fake-messages-api.js";

/** A temp project (`project`, with its `.claude/settings.json`) and the empty HOME beside it, both in `dir`. */
export type Project = ReturnType<typeof makeProject>;

/** What withClaudeProject gives a test. */
export interface ClaudeProject {
  daemon: TestDaemon;
  project: Project;
  api: FakeApi;
}

export interface ClaudeProjectOptions {
  /** The project's `.claude/settings.json`; `{}` (no hooks) by default. */
  settings?: unknown;
  /** How the fake model answers (the fake's default, "done", when neither this nor scriptFor is given). */
  script?: (req: RecordedRequest) => Reply;
  /** Instead of `script`: builds it once the daemon and project exist, so it may name their paths. */
  scriptFor?: (daemon: TestDaemon, project: Project) => (req: RecordedRequest) => Reply;
}

/**
 * Runs `body` with a fresh daemon, a temp project and the fake Messages API; afterwards, even when
 * `body` throws, closes the fake, cleans up the daemon (stops it, kills its workers, removes its
 * home) and removes the project.
 */
export async function withClaudeProject<T>(options: ClaudeProjectOptions, body: (s: ClaudeProject) => Promise<T>): Promise<T> {
  let daemon: TestDaemon | undefined;
  let project: Project | undefined;
  let api: FakeApi | undefined;
  try {
    daemon = await startDaemon();
    project = makeProject(options.settings ?? {});
    api = await startFakeApi(options.scriptFor?.(daemon, project) ?? options.script);
    return await body({ daemon, project, api });
  } finally {
    await api?.close();
    await cleanup(daemon);
    if (project) rmSync(project.dir, { recursive: true, force: true });
  }
}
