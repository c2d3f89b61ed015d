#!/usr/bin/env node
// cpwd-hook: the Claude Code hook shim. Until the integration lands it answers every hook with
// "no opinion" (exit 0, nothing on stdout), which Claude Code reads as: proceed.
process.exitCode = 0;
