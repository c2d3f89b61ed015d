// A hook call the daemon has answered over HTTP is in events.jsonl even when the daemon is killed
// -9 the moment the answer arrives: its line is written before the answer goes (docs/hooks.md,
// "What cpwd adds above the floor"). Each of the three HTTP events, over one kept connection as
// Claude Code sends them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { test } from "node:test";
import { readHookEndpoint, type HookEndpoint } from "../../src/records/hook-endpoint.js";
import { cleanup, startDaemon, tempHome } from "../helpers/daemon.js";

function post(ep: HookEndpoint, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: ep.port, path: "/hook", method: "POST", agent, headers: { authorization: `Bearer ${ep.token}`, "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (const event of ["PreToolUse", "PostToolUse", "UserPromptSubmit"]) {
  test(`${event} calls answered over HTTP are all in the record after a kill -9 right after the last answer`, async () => {
    const d = await startDaemon(tempHome());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ep = readHookEndpoint(d.paths.hookEndpoint)!;
      const ids = Array.from({ length: 20 }, (_, i) => `toolu_${i}`);
      for (const id of ids) {
        const call = { hook_event_name: event, session_id: "answered", cwd: "/", tool_name: "Read", tool_use_id: id, tool_input: { file_path: `/tmp/${id}` }, tool_response: { ok: true }, prompt: id };
        assert.equal(await post(ep, agent, JSON.stringify(call)), 200);
      }
      await d.kill9();
      const recorded = readFileSync(d.paths.events, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === `hook.${event}` && e.session === "answered");
      assert.equal(recorded.length, ids.length);
      assert.deepEqual(recorded.map((e) => e.payload.toolUseId), ids);
    } finally {
      agent.destroy();
      await cleanup(d);
    }
  });
}
