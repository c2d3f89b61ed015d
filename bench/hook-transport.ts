// Hook transports in a real Claude Code session (the pinned CLI, offline against the fake Messages
// API): one session of 20 tool calls (10 Writes, 10 Reads) with no hooks, with the shim as `cpwd
// hooks install` writes it, with HTTP hooks on PreToolUse/PostToolUse/UserPromptSubmit, and as
// `--transport http` installs them (those three over HTTP, the shim on the rest), in interleaved
// rounds (the order turning each round); median wall time, and each as the median per-round ratio
// to no hooks. Two floors beside them: the same HTTP hooks to a no-op endpoint, and refused by
// `allowedHttpHookUrls` before any request is made (Claude Code's hook machinery alone); and the
// HTTP-hooked session as a ratio to the no-op one, what cpwd adds above that floor. And the CPU
// Claude Code burns per HTTP hook call, which is where that floor goes (issue 12).
import { existsSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { HTTP_HOOK_EVENTS, hookTimeoutSec, httpTimeoutSec, installHooks, shimCommand, type Settings } from "../cli/hooks-install/install.js";
import { hookUrl, readHookEndpoint, type HookEndpoint } from "../src/records/hook-endpoint.js";
import { CLAUDE_BIN, claudeEnv, makeProject } from "../test/helpers/claude.js";
import { startFakeApi, toolsThenText, type FakeApi } from "../test/helpers/fake-messages-api.js";
import { SHIM } from "../test/helpers/shim.js";
import { runClaudeTimed } from "./claude-cpu.js";
import { median, onInterrupt, withBenchDaemon, type Figure } from "./lib.js";

const ROUNDS = 11;
const TOOL_CALLS = 20;
/** HTTP hook calls in one session: PreToolUse and PostToolUse per tool call, and one UserPromptSubmit. */
const HTTP_CALLS = 2 * TOOL_CALLS + 1;

/** One way of hooking a session: its project (settings written) and its fake API. */
export interface Variant {
  dir: string;
  project: string;
  home: string;
  api: FakeApi;
  files: string[];
}

/** The session's tool calls: Write a new file, then Read it, ten times. */
function calls(project: string): { files: string[]; tools: Array<{ name: string; input: Record<string, unknown> }> } {
  const files = Array.from({ length: TOOL_CALLS / 2 }, (_, i) => join(project, `f${i}.txt`));
  return { files, tools: files.flatMap((f, i) => [{ name: "Write", input: { file_path: f, content: `line ${i}\n` } }, { name: "Read", input: { file_path: f } }]) };
}

/**
 * A project with `settings` and a fake API that scripts the session's tool calls, each turn
 * answered `modelMs` late (a model's latency; also bench/http-hook-probe.ts).
 */
export async function variant(settings: Settings, modelMs = 0): Promise<Variant> {
  const p = makeProject(settings);
  const { files, tools } = calls(p.project);
  const script = toolsThenText(tools);
  return { ...p, api: await startFakeApi((req) => ({ ...script(req), delayMs: modelMs })), files };
}

/** One POST /hook, as Claude Code sends it: wall ms until the reply has been read. */
function postHook(ep: HookEndpoint, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port: ep.port, path: "/hook", method: "POST", headers: { authorization: `Bearer ${ep.token}`, "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`POST /hook answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Median ms of `n` HTTP hook calls one after the other (PreToolUse and PostToolUse of Writes). */
async function hookCallMs(ep: HookEndpoint, n = 200): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const event = { hook_event_name: i % 2 ? "PostToolUse" : "PreToolUse", session_id: "bench-http", cwd: "/tmp", tool_name: "Write", tool_input: { file_path: `/tmp/bench-${i >> 1}.txt`, content: "x\n" } };
    xs.push(await postHook(ep, JSON.stringify(event)));
  }
  return median(xs);
}

/**
 * An HTTP hook endpoint that does nothing: reads the body, answers `{}`. A session hooked to it
 * measures what Claude Code itself spends on an HTTP hook, the floor any HTTP transport stands on.
 */
async function startNoopEndpoint(): Promise<{ server: Server; port: number; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, requests: () => requests };
}

/** Only the HTTP events of a `--transport http` install: HTTP hooks alone. */
function httpOnly(settings: Settings): Settings {
  const hooks = settings.hooks as Record<string, unknown>;
  return { ...settings, hooks: Object.fromEntries(Object.entries(hooks).filter(([e]) => HTTP_HOOK_EVENTS.has(e))) };
}

export async function benchHookTransport(): Promise<Figure[]> {
  if (!existsSync(CLAUDE_BIN)) {
    console.error(`  no Claude Code CLI at ${CLAUDE_BIN}: hook-transport skipped`);
    return [];
  }
  return withBenchDaemon({}, async (d) => {
    const ep = readHookEndpoint(d.paths.hookEndpoint)!;
    const shim = { command: shimCommand(process.execPath, SHIM), timeoutSec: hookTimeoutSec(1000) };
    const http = { ...shim, http: { url: hookUrl(ep.port), timeoutSec: httpTimeoutSec(1000), token: ep.token } };
    const noop = await startNoopEndpoint();
    const noopHttp = { ...shim, http: { url: hookUrl(noop.port), timeoutSec: httpTimeoutSec(1000), token: ep.token } };
    const settings: Record<string, Settings> = {
      none: {},
      noop: httpOnly(installHooks({}, noopHttp)),
      // The same entries, refused by the allowlist before any request: what the hook machinery costs alone.
      refused: { ...httpOnly(installHooks({}, noopHttp)), allowedHttpHookUrls: ["http://127.0.0.1:1/nothing-here"] },
      shim: installHooks({}, shim),
      http: httpOnly(installHooks({}, http)),
      installed: installHooks({}, http),
    };
    const variants: Record<string, Variant> = {};
    const forget = onInterrupt(() => Object.values(variants).forEach((v) => rmSync(v.dir, { recursive: true, force: true })));
    try {
      for (const [name, s] of Object.entries(settings)) variants[name] = await variant(s);
      const names = Object.keys(variants);
      const wall: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
      const cpu: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
      for (let round = 0; round <= ROUNDS; round++) {
        // The order turns each round, so no variant always runs right after the heavy shim one.
        for (const name of [...names.slice(round % names.length), ...names.slice(0, round % names.length)]) {
          const v = variants[name]!;
          for (const f of v.files) rmSync(f, { force: true });
          const env = claudeEnv(v.api.url, v.home, { CPWD_HOME: d.home, CPWD_AUTOSTART: "0" });
          const posted = noop.requests();
          const run = await runClaudeTimed({ cwd: v.project, prompt: "write and read the files", env });
          const results = run.lines.filter((l) => l.type === "user" && JSON.stringify(l).includes('"tool_result"')).length;
          if (run.result?.subtype !== "success" || results < TOOL_CALLS) throw new Error(`${name}: session did not make its ${TOOL_CALLS} tool calls (${results}): ${run.stderr.slice(0, 500)}`);
          const sent = noop.requests() - posted;
          if ((name === "noop" && sent !== HTTP_CALLS) || (name === "refused" && sent !== 0)) throw new Error(`${name}: the no-op endpoint got ${sent} requests`);
          if (round > 0) {
            // round 0 warms the caches
            wall[name]!.push(run.wallMs);
            cpu[name]!.push(run.cpuMs);
          }
        }
      }
      for (const k of names) console.error(`  ${k}: ${wall[k]!.map((x) => Math.round(x)).join(" ")} ms wall; ${cpu[k]!.map((x) => Math.round(x)).join(" ")} ms CPU`);
      const callMs = await hookCallMs(ep);
      const noopCallMs = await hookCallMs({ ...ep, port: noop.port });
      const ms = (k: string) => median(wall[k]!);
      const ratio = (k: string, base = "none") => median(wall[k]!.map((x, i) => x / wall[base]![i]!));
      /** Claude Code's CPU per HTTP hook call: the median per-round CPU over no hooks, per call. */
      const cpuPerCall = (k: string) => median(cpu[k]!.map((x, i) => x - cpu.none![i]!)) / HTTP_CALLS;
      const none = { name: "no hooks", value: ms("none"), unit: "ms" };
      const note = `${TOOL_CALLS} tool calls, ${ROUNDS} rounds`;
      const cpuNote = `median per-round CPU (user + system) over no hooks' ${Math.round(median(cpu.none!))} ms, / ${HTTP_CALLS} calls`;
      return [
        {
          name: "Claude session, HTTP hooks to a no-op endpoint",
          value: ms("noop"),
          unit: "ms",
          baseline: none,
          ratio: ratio("noop"),
          issue: false,
          note: "the same three events answered `{}` at once: Claude Code's own cost of an HTTP hook, the floor",
        },
        {
          name: "Claude session, HTTP hooks refused before sending",
          value: ms("refused"),
          unit: "ms",
          baseline: none,
          ratio: ratio("refused"),
          issue: false,
          note: "the same entries, the URL outside `allowedHttpHookUrls`: no request at all, Claude Code's hook machinery alone",
        },
        { name: "Claude session, shim hooks", value: ms("shim"), unit: "ms", baseline: none, ratio: ratio("shim"), issue: true, note: `${note}; 15 events as \`hooks install\` writes them` },
        {
          name: "Claude session, HTTP hooks",
          value: ms("http"),
          unit: "ms",
          baseline: none,
          ratio: ratio("http"),
          target: { of: "ratio", op: "<=", limit: 1.05, text: "≤ 1.05×" },
          issue: true,
          note: `${note}; PreToolUse, PostToolUse, UserPromptSubmit`,
        },
        {
          name: "Claude session, HTTP hooks to cpwd vs to the no-op endpoint",
          value: ms("http"),
          unit: "ms",
          baseline: { name: "no-op endpoint", value: ms("noop"), unit: "ms" },
          ratio: ratio("http", "noop"),
          target: { of: "ratio", op: "<=", limit: 1.05, text: "≤ 1.05×" },
          issue: false,
          note: "what cpwd adds above Claude Code's own floor: the same entries and calls, median of per-round ratios",
        },
        { name: "Claude session, --transport http as installed", value: ms("installed"), unit: "ms", baseline: none, ratio: ratio("installed"), issue: false, note: "HTTP on those three, the shim on SessionStart, Stop, SessionEnd …" },
        { name: "Claude Code CPU per HTTP hook call, no-op endpoint", value: cpuPerCall("noop"), unit: "ms", issue: false, note: cpuNote },
        { name: "Claude Code CPU per HTTP hook call, refused before sending", value: cpuPerCall("refused"), unit: "ms", issue: false, note: "the same, with no request made" },
        { name: "Claude Code CPU per HTTP hook call, cpwd", value: cpuPerCall("http"), unit: "ms", issue: false, note: "the same, to the daemon (its own CPU not counted)" },
        { name: "one HTTP hook call", value: callMs, unit: "ms", issue: false, note: "POST /hook to its reply, the record fsynced; 200 in a row over one kept connection, as Claude Code sends them" },
        { name: "one HTTP hook call to the no-op endpoint", value: noopCallMs, unit: "ms", issue: false, note: "the same calls answered `{}` at once: HTTP on loopback alone" },
      ];
    } finally {
      forget();
      noop.server.close();
      for (const v of Object.values(variants)) {
        await v.api.close();
        rmSync(v.dir, { recursive: true, force: true });
      }
    }
  });
}
