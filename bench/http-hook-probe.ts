// Probe for issue 12: does anything in an HTTP hook's entry or its endpoint's answer change what
// Claude Code spends per call? Runs the same 20-tool-call session (the pinned CLI, offline against
// the fake Messages API) under hook variants in interleaved rounds and prints, per variant, the
// median wall and CPU and the median per-round difference to no hooks. Not part of `npm run bench`:
//   node --import tsx bench/http-hook-probe.ts [rounds] [variant…]      (no variants: all of them)
// PROBE_DEBUG=DIR also writes each session's `--debug-file` there, for the timestamps around
// "Hooks: HTTP hook POST" and "HTTP hook response" (docs/hooks.md, "What an HTTP hook costs").
import { rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { claudeEnv } from "../test/helpers/claude.js";
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
};

async function endpoint(answer: Answer, host = "127.0.0.1"): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(req, res));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

const servers: Record<string, { server: Server; port: number }> = {};
for (const [k, a] of Object.entries(answers)) servers[k] = await endpoint(a);
servers.v6 = await endpoint(answers.json!, "::1");
servers.any = await endpoint(answers.json!, "localhost");
const url = (k: string, host = "127.0.0.1") => `http://${host}:${servers[k]!.port}/hook`;

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
  // answer shapes: Connection: close (as the daemon answers), 204 empty, 200 empty
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
try {
  for (let round = 0; round <= rounds; round++) {
    for (const [name, v] of Object.entries(variants)) {
      for (const f of v.files) rmSync(f, { force: true });
      const args = process.env.PROBE_DEBUG ? ["--debug-file", join(process.env.PROBE_DEBUG, `${name}-${round}.txt`)] : [];
      const run = await runClaudeTimed({ cwd: v.project, prompt: "write and read the files", env: claudeEnv(v.api.url, v.home), args });
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
}
const diff = (xs: number[], base: number[]) => median(xs.map((x, i) => x - base[i]!));
for (const k of Object.keys(wall)) {
  const w = wall[k]!;
  const c = cpu[k]!;
  console.log(`${k.padEnd(10)} wall ${Math.round(median(w))} ms (Δ ${Math.round(diff(w, wall.none!))})  CPU ${Math.round(median(c))} ms (Δ ${Math.round(diff(c, cpu.none!))})  [${c.map(Math.round).join(" ")}]`);
}
