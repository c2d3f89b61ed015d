// Probe for issue 12: does anything in an HTTP hook's entry or its endpoint's answer change what
// Claude Code spends per call? Runs the same 20-tool-call session (the pinned CLI, offline against
// the fake Messages API) under hook variants in interleaved rounds and prints, per variant, the
// median wall and CPU and the median per-round difference to no hooks. Not part of `npm run bench`:
//   node --import tsx bench/http-hook-probe.ts [rounds] [variant…]      (no variants: all of them)
// PROBE_DEBUG=DIR also writes each session's `--debug-file` there and prints, per variant, the time
// from "Hooks: HTTP hook POST" to "HTTP hook response" inside Claude Code, by hook event
// (docs/hooks.md, "What an HTTP hook costs"). PROBE_DAEMON_B=PATH (another build's
// dist/daemon/main.js) adds the variant `daemonB`, the same as `daemon` against that build: an A/B
// of two daemons in one run.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hookUrl, readHookEndpoint } from "../src/records/hook-endpoint.js";
import { claudeEnv } from "../test/helpers/claude.js";
import { DAEMON_NODE_FLAGS } from "../cli/service/spec.js";
import { startDaemon, cleanup, tempHome, waitFor } from "../test/helpers/daemon.js";
import { runClaudeTimed } from "./claude-cpu.js";
import { variant, type Variant } from "./hook-transport.js";
import { median } from "./lib.js";

const rounds = Number(process.argv[2] ?? 7);
const only = process.argv.slice(3);

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const answers: Record<string, Answer> = {
  json: (_q, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"),
  close: (_q, res) => res.writeHead(200, { "content-type": "application/json", connection: "close", "content-length": 2 }).end("{}"),
  empty204: (_q, res) => res.writeHead(204).end(),
  empty200: (_q, res) => res.writeHead(200, { "content-length": 0 }).end(),
  // as late as the daemon's answer (its record fsynced): does Claude Code burn CPU while it waits?
  late: (_q, res) => void setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end("{}"), 5),
  // as the daemon's record: a line appended and fdatasynced before the answer, kept alive or closed
  sync: (_q, res) => void synced().then(() => res.writeHead(200, { "content-type": "application/json" }).end("{}")),
  syncclose: (_q, res) => void synced().then(() => res.writeHead(200, { "content-type": "application/json", connection: "close", "content-length": 2 }).end("{}")),
};

const syncDir = mkdtempSync(join(tmpdir(), "cpwd-probe-sync-"));
const syncFile = await open(join(syncDir, "events.jsonl"), "a");
async function synced(): Promise<void> {
  await syncFile.write(`${JSON.stringify({ seq: 1, type: "hook.PreToolUse", payload: { tool: "Write" } })}\n`);
  await syncFile.datasync();
}

/** Connections opened to the no-op endpoints: whether Claude Code kept one alive across calls. */
let connections = 0;

async function endpoint(answer: Answer, host = "127.0.0.1"): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(req, res));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

const servers: Record<string, { server: Server; port: number }> = {};
for (const [k, a] of Object.entries(answers)) servers[k] = await endpoint(a);
servers.v6 = await endpoint(answers.json!, "::1");
servers.any = await endpoint(answers.json!, "localhost");
const url = (k: string, host = "127.0.0.1") => `http://${host}:${servers[k]!.port}/hook`;
// The real daemon (a home of its own), reached as `hooks install --transport http` writes it.
const home = tempHome("cpwd-probe-");
const daemon = await startDaemon(home, { CPWD_LOG_LEVEL: "warn" });
const ep = readHookEndpoint(daemon.paths.hookEndpoint)!;
const three = ["PreToolUse", "PostToolUse", "UserPromptSubmit"];
const daemonB = process.env.PROBE_DAEMON_B ? await startDaemonB(process.env.PROBE_DAEMON_B) : null;

/** A daemon of another build, in a home of its own: its pid, home and endpoint. */
async function startDaemonB(main: string): Promise<{ pid: number; home: string; port: number; token: string; exited: Promise<unknown> }> {
  const bHome = tempHome("cpwd-probe-b-");
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, main], { env: { ...process.env, CPWD_HOME: bHome, CPWD_LOG_LEVEL: "warn" }, stdio: "ignore" });
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  const file = join(bHome, "hook-http.json");
  try {
    await waitFor("daemon B's HTTP hook endpoint", () => existsSync(file) && readHookEndpoint(file), 30_000);
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
  }
  return { pid: proc.pid!, home: bHome, exited, ...readHookEndpoint(file)! };
}

type Hook = Record<string, unknown>;
const http = (u: string, extra: Hook = {}): Hook => ({ type: "http", url: u, timeout: 2, ...extra });
const cpwdShape = (u: string): Hook => http(u, { headers: { Authorization: "Bearer $CPWD_TOKEN", "X-Cpwd-Worker": "$CPWD_WORKER_ID" }, allowedEnvVars: ["CPWD_TOKEN", "CPWD_WORKER_ID"] });
const tools = (h: Hook, matcher = "*", events = ["PreToolUse", "PostToolUse"]) => ({ hooks: Object.fromEntries(events.map((e) => [e, [{ matcher, hooks: [h] }]])) });

/** Two hook calls per tool call (PreToolUse, PostToolUse) unless said otherwise. */
const settings: Record<string, Record<string, unknown>> = {
  none: {},
  // configured, never matching: the cost of having HTTP hooks at all
  nomatch: tools(http(url("json")), "NoSuchTool"),
  // outside allowedHttpHookUrls: the whole hook pipeline, no request
  blocked: { ...tools(http(url("json"))), allowedHttpHookUrls: ["http://example.invalid/*"] },
  // nobody listens: connect refused
  connrefused: tools(http("http://127.0.0.1:9/hook")),
  // 200 `{}` with content-type, kept alive (Node's default)
  noop: tools(http(url("json"))),
  // the entry as `hooks install --transport http` writes it: headers, allowedEnvVars, env
  cpwd: { ...tools(cpwdShape(url("json"))), env: { CPWD_TOKEN: "t" } },
  // the daemon itself, the same entry and the same three events as the bench's HTTP variant
  daemon: { ...tools(cpwdShape(hookUrl(ep.port)), "*", three), env: { CPWD_TOKEN: ep.token } },
  ...(daemonB ? { daemonB: { ...tools(cpwdShape(hookUrl(daemonB.port)), "*", three), env: { CPWD_TOKEN: daemonB.token } } } : {}),
  // the no-op endpoint with that entry and those events; answered with Connection: close (as the
  // daemon did until it kept connections), after an fdatasync (kept alive or closed), 5 ms late
  noop3: { ...tools(cpwdShape(url("json")), "*", three), env: { CPWD_TOKEN: ep.token } },
  close3: { ...tools(cpwdShape(url("close")), "*", three), env: { CPWD_TOKEN: ep.token } },
  sync3: { ...tools(cpwdShape(url("sync")), "*", three), env: { CPWD_TOKEN: ep.token } },
  syncclose3: { ...tools(cpwdShape(url("syncclose")), "*", three), env: { CPWD_TOKEN: ep.token } },
  late3: { ...tools(cpwdShape(url("late")), "*", three), env: { CPWD_TOKEN: ep.token } },
  // answer shapes: Connection: close, 204 empty, 200 empty
  close: tools(http(url("close"))),
  e204: tools(http(url("empty204"))),
  e200: tools(http(url("empty200"))),
  // the same `{}`, 5 ms late
  late: tools(http(url("late"))),
  // the URL's host: a name to resolve, IPv6 loopback
  localhost: tools(http(url("any", "localhost"))),
  v6: tools(http(url("v6", "[::1]"))),
  // one entry per tool instead of one with "*"
  split: { hooks: Object.fromEntries(["PreToolUse", "PostToolUse"].map((e) => [e, ["Write", "Read"].map((m) => ({ matcher: m, hooks: [http(url("json"))] }))])) },
  // fewer calls: PreToolUse only (one per tool call)
  preonly: tools(http(url("json")), "*", ["PreToolUse"]),
  // the hook's timeout (s)
  timeout30: tools(http(url("json"), { timeout: 30 })),
};

const variants: Record<string, Variant> = {};
// PROBE_MODEL_MS: each model turn answered that late, as a real model would (default 0: at once).
const modelMs = Number(process.env.PROBE_MODEL_MS ?? 0);
for (const [k, s] of Object.entries(settings)) if (only.length === 0 || k === "none" || only.includes(k)) variants[k] = await variant(s, modelMs);
const wall: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const conns: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
try {
  const names = Object.keys(variants);
  for (let round = 0; round <= rounds; round++) {
    // The order turns each round, as in bench/hook-transport.ts.
    for (const name of [...names.slice(round % names.length), ...names.slice(0, round % names.length)]) {
      const v = variants[name]!;
      for (const f of v.files) rmSync(f, { force: true });
      const args = process.env.PROBE_DEBUG ? ["--debug-file", join(process.env.PROBE_DEBUG, `${name}-${round}.txt`)] : [];
      const opened = connections;
      const run = await runClaudeTimed({ cwd: v.project, prompt: "write and read the files", env: claudeEnv(v.api.url, v.home), args });
      conns[name]!.push(connections - opened);
      if (run.result?.subtype !== "success") throw new Error(`${name}: ${run.stderr.slice(0, 300)}`);
      if (round === 0) continue; // warms the caches
      wall[name]!.push(run.wallMs);
      cpu[name]!.push(run.cpuMs);
    }
  }
} finally {
  for (const v of Object.values(variants)) {
    await v.api.close();
    rmSync(v.dir, { recursive: true, force: true });
  }
  for (const s of Object.values(servers)) s.server.close();
  await cleanup(daemon, home);
  if (daemonB) {
    process.kill(daemonB.pid, "SIGTERM");
    await daemonB.exited;
    rmSync(daemonB.home, { recursive: true, force: true });
  }
  await syncFile.close();
  rmSync(syncDir, { recursive: true, force: true });
}
const diff = (xs: number[], base: number[]) => median(xs.map((x, i) => x - base[i]!));
for (const k of Object.keys(wall)) {
  const w = wall[k]!;
  const c = cpu[k]!;
  const ratio = median(w.map((x, i) => x / wall.none![i]!));
  console.log(`${k.padEnd(10)} wall ${Math.round(median(w))} ms (Δ ${Math.round(diff(w, wall.none!))}, ${ratio.toFixed(3)}×)  CPU ${Math.round(median(c))} ms (Δ ${Math.round(diff(c, cpu.none!))})  [${c.map(Math.round).join(" ")}]  connections to the no-op endpoints ${conns[k]!.join(" ")}`);
}
if (process.env.PROBE_DEBUG) for (const k of Object.keys(wall)) if (k !== "none") console.log(`${k.padEnd(10)} inside Claude Code, POST to response: ${insideClaude(process.env.PROBE_DEBUG, k)}`);

/**
 * The medians, over a variant's sessions (round 0 left out), of the ms from "HTTP hook POST" to
 * "HTTP hook response" in Claude Code's debug log, by the hook's event (named by the `"Hook EVENT…
 * success` line after the response), and of their sum per session.
 */
function insideClaude(dir: string, name: string): string {
  const byEvent: Record<string, number[]> = {};
  const sums: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    let posted: number | null = null;
    let took: number | null = null;
    let sum = 0;
    for (const line of readFileSync(join(dir, `${name}-${round}.txt`), "utf8").split("\n")) {
      const at = Date.parse(line.slice(0, 24));
      const named = /"Hook (\w+)/.exec(line);
      if (line.includes("HTTP hook POST")) posted = at;
      else if (line.includes("HTTP hook response") && posted !== null) {
        took = at - posted;
        sum += took;
        posted = null;
      } else if (named && took !== null) {
        (byEvent[named[1]!] ??= []).push(took);
        took = null;
      }
    }
    sums.push(sum);
  }
  return `${Object.entries(byEvent).map(([e, xs]) => `${e} ${median(xs)} ms (${xs.length})`).join(", ")}; a session ${median(sums)} ms`;
}
