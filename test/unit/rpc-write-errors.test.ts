// A handler that cannot write its files (found by the disk-trouble chaos scenario: worker.spawn on
// a full disk answered INTERNAL, "a bug"): a file system error that says the disk cannot take a
// write is the IO error, with its errno, as the event log's own refusal is.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { bindGroup, buildRpcServer } from "../../daemon/rpc-table.js";

const quiet = { warn() {}, error() {}, info() {}, debug() {} } as never;

test("an ENOSPC thrown by a handler is answered IO with its errno; other throws stay INTERNAL", async () => {
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, open '/h/workers/W1/spec.json'"), { code: "ENOSPC" });
  const specs = { "t.full": { summary: "", params: z.object({}).strict().optional(), result: z.unknown() }, "t.bug": { summary: "", params: z.object({}).strict().optional(), result: z.unknown() } };
  const server = buildRpcServer(
    [bindGroup({ specs, handlers: { "t.full": () => { throw enospc; }, "t.bug": () => { throw new TypeError("x is undefined"); } } } as never)],
    quiet,
  );
  const full = (await server.receive({ jsonrpc: "2.0", id: 1, method: "t.full" }, { connectionId: 1 })) as { error: { code: number; message: string; data: { code: string; errno: string } } };
  assert.equal(full.error.data.code, "IO");
  assert.equal(full.error.data.errno, "ENOSPC");
  assert.equal(full.error.code, -32040);
  assert.match(full.error.message, /t\.full: cpwd could not write its files \(ENOSPC/);
  const bug = (await server.receive({ jsonrpc: "2.0", id: 2, method: "t.bug" }, { connectionId: 1 })) as { error: { data: { code: string } } };
  assert.equal(bug.error.data.code, "INTERNAL");
});
