// The skill `cpwd hooks install` writes beside the hooks (.claude/skills/cpwd/SKILL.md): how Claude,
// as the conductor, starts workers and reads their state with the CLI. Kept short: it is loaded
// into the context whenever Claude decides it applies.

/** Marks the file as written by cpwd, so uninstall and upgrades never touch a user's own skill. */
export const SKILL_MARK = "<!-- written by `cpwd hooks install`; `cpwd hooks uninstall` removes it -->";

export const SKILL_TEXT = `---
name: cpwd
description: Run work in parallel with cpwd workers (background Claude Code sessions or commands that outlive this conversation) and check on them. Use when a task splits into independent parts, for long-running commands, or when the user asks about cpwd, its workers, or a file another worker holds.
---
${SKILL_MARK}

# cpwd: parallel workers

cpwd is a daemon that runs workers beside this session. Each gets an id \`W<N>\`; their output
is kept in files, not in this conversation.

## Prefer the cpwd tools
When the \`mcp__cpwd__*\` tools are available, use them rather than the commands below: start with
\`claude_worker\` or \`spawn_worker\`, then gather with \`wait_for_workers\` (it blocks until they end
and returns each result and cost: no polling); \`list_workers\`, \`worker_status\`, \`worker_logs\`,
\`worker_diff\` and \`stop_worker\` do what \`cpwd status\`, \`logs\`, \`diff\` and \`stop\` do. The commands
are for a shell, or when the tools are not there.

## Start work
- A Claude worker on its own branch: \`cpwd claude --name tests --worktree "Add tests for src/parse.ts and run them with npm test until they pass" -- --allowedTools "Bash(npm test:*)"\`
  (also \`--model M\`, \`--max-turns N\`, \`--timeout 30m\`, \`--cwd DIR\`).
  Give each worker a self-contained prompt: it does not see this conversation.
- It may edit files in its folder (permission mode acceptEdits); any command it must run is refused
  unless you allow it after \`--\`, where every \`claude\` option goes (\`--allowedTools "Bash(npm test:*)"\`).
  A worktree worker's changes stay on its branch: \`cpwd diff W3\`, then \`cpwd merge W3 --commit\`.
- Any command: \`cpwd spawn --name build --timeout 10m -- npm run build\`
  (\`--restart on-failure\`, \`--env K=V\`; the command runs without a shell unless you run one).
- Both print the worker id and return at once.

## Follow it
- You are told without asking: when a worker finishes, fails or times out, its result reaches you
  as context with your next prompt or tool call. Do not poll in a loop.
- \`cpwd status\` (or \`--json\`): every worker's state, run time, exit code, cost.
- News that says \`but 2 actions were refused (…)\` or \`needs attention: every edit was refused\`
  means that part was not done: start a new worker that allows what it needs.
- \`cpwd logs W3 -n 50\` (\`--stderr\`, \`--both\`, \`-f\` to follow).
- \`cpwd stop W3\`, \`cpwd restart W3\`, \`cpwd rm W3\`; \`all\` or a name works in place of an id.

## Files held by workers
A worker that edits a file holds it until it ends. If your Write or Edit is denied because a worker
holds the file, do not retry: work on something else, wait for the worker's news, or ask the user.
\`cpwd claims\` lists held files; \`cpwd release PATH\` frees one when the user says so.
`;
