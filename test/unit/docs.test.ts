// docs/protocol.md lists every RPC method the daemon serves (so the doc cannot silently drift).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { methodSpecs } from "../../src/protocol/rpc-methods.js";
import { REPO } from "../helpers/daemon.js";

test("every RPC method is documented", () => {
  const docs = ["protocol.md", "workers.md", "hooks.md"]
    .map((f) => join(REPO, "docs", f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  for (const name of Object.keys(methodSpecs)) assert.ok(docs.includes(`\`${name}\``), `${name} is missing from docs/`);
});
