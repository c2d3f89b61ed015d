// The check table of `cpwd doctor`, in the order they are shown: the machine and the state folder,
// the daemon, the record, then what surrounds it. Each row is a small function of the gathered facts.
import type { Check } from "./check.js";
import { checkDaemon, checkLock, checkSocket } from "./daemon-checks.js";
import { checkConfig, checkHome, checkNode, checkPermissions } from "./home-checks.js";
import { checkEvents, checkFallback, checkSeq } from "./record-checks.js";
import { checkClaude, checkHooks, checkMcp, checkService } from "./setup-checks.js";

export const CHECKS: readonly Check[] = [
  { name: "node", run: checkNode },
  { name: "home", run: checkHome },
  { name: "permissions", run: checkPermissions },
  { name: "config", run: checkConfig },
  { name: "socket", run: checkSocket },
  { name: "daemon", run: checkDaemon },
  { name: "lock", run: checkLock },
  { name: "events", run: checkEvents },
  { name: "seq", run: checkSeq },
  { name: "fallback", run: checkFallback },
  { name: "hooks", run: checkHooks },
  { name: "mcp", run: checkMcp },
  { name: "claude", run: checkClaude },
  { name: "service", run: checkService },
];
