// The usage lines of the commands with many options, in a module of their own so that `cpwd`'s
// entry point can print them for `--help` without loading the commands (and zod with them).

export const SPAWN_USAGE =
  "usage: cpwd spawn [--name N] [--cwd DIR] [--env K=V]… [--timeout 30m] [--restart never|on-failure|always] [--max-restarts 5] [--restart-window 10m] [--min-uptime 30s] [--backoff 1s..60s] [--grace 10s] -- COMMAND [ARGS…]";

export const CLAUDE_USAGE =
  'usage: cpwd claude [--name N] [--cwd DIR] [--worktree] [--model M] [--max-turns N] [--permission-mode M] [--max-cost USD] [--timeout 30m] [--env K=V]… "PROMPT" [-- CLAUDE OPTIONS…]\n' +
  '       cpwd claude --resume W3 [--model M] [--max-turns N] [--permission-mode M] [--max-cost USD] "PROMPT" [-- CLAUDE OPTIONS…]   (a new run of W3, in its session)\n' +
  '       cpwd claude --fork W3 [new-worker options] "PROMPT" [-- CLAUDE OPTIONS…]   (a new worker from W3\'s session)\n' +
  "  and spawn's restart options: --restart, --max-restarts, --restart-window, --min-uptime, --backoff, --grace\n" +
  "  --max-cost: USD one run may spend (Claude Code's --max-budget-usd; the daemon stops a run over it)\n" +
  "  --permission-mode: acceptEdits (the default; claudePermissionMode in config.json changes it), auto, bypassPermissions, default, dontAsk, manual, plan\n" +
  '  after --, passed to claude as they are: e.g. -- --allowedTools "Bash(npm test:*)" --append-system-prompt "…"';

export const MCP_USAGE = "cpwd mcp    (a stdio MCP server: Claude Code starts it; see docs/mcp.md)";
