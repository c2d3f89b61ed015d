// The HTTP hook server after it listens: an error the server emits (a failed accept, as libuv
// reports EMFILE once its reserve descriptor is gone too) is its own warning, not an uncaught
// exception, and it goes on serving.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { request } from "node:http";
import { test } from "node:test";
import { HookHttpServer } from "../../daemon/http-hooks/server.js";
import { withHome, pathsFor } from "../helpers/daemon.js";

/** A request to the endpoint with no token: its status. */
function statusOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/hook", method: "POST" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end("{}");
  });
}

test("an accept error after listening is logged as the HTTP hook server's warning, and it serves on", () =>
  withHome(async (home) => {
    const warnings: Array<{ obj: object; msg: string }> = [];
    const log = { info() {}, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
    const rpc = { receive: async () => null };
    const server = await HookHttpServer.listen({ paths: pathsFor(home), configuredPort: null, maxBodyBytes: 1 << 20, rpc, log });
    try {
      const err = Object.assign(new Error("accept EMFILE"), { code: "EMFILE", errno: -24, syscall: "accept" });
      // What node:net does with a failed accept: the listening server emits it.
      (server as unknown as { server: Server }).server.emit("error", err);
      assert.deepEqual(warnings, [{ obj: { err }, msg: "the HTTP hook server could not accept a connection; it keeps listening" }]);
      assert.equal(await statusOf(server.port), 401, "it still answers");
    } finally {
      await server.close();
    }
  }),
);
