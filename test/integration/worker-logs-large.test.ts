// `cpwd logs` on a log bigger than the chunk it reads at a time (cli/log-sources.ts, CHUNK_BYTES),
// written straight into an ended worker's logs folder: `--raw` prints every byte, `-n 5` the last 5
// lines, and one stream's lines are found however far back the other stream has pushed them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CHUNK_BYTES } from "../../cli/log-sources.js";
import { CLI, cleanup, startDaemon, testEnv, waitFor, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let id: string;
/** The lines written to stdout.log (and, as records, to output.log). */
const lines: string[] = [];

before(async () => {
  d = await startDaemon();
  const c = await d.client();
  try {
    const { worker } = await c.call("worker.spawn", { argv: ["sh", "-c", "echo started"], cwd: d.home, env: { PATH: process.env.PATH ?? "" } } as never);
    id = String(worker.id);
    await waitFor(`${id} to exit`, async () => (await c.call("worker.get", { target: id })).workers[0]?.state === "exited");
  } finally {
    c.close();
  }
  // Over 3 chunks: numbered lines of every length up to 300 bytes, and one line longer than a chunk.
  for (let i = 0, bytes = 0; bytes < 3 * CHUNK_BYTES; i++) {
    const line = i === 5_000 ? "long ".repeat(CHUNK_BYTES / 3) : `line ${i} ${"x".repeat(i % 300)}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  const logs = join(d.paths.workers, id, "logs");
  writeFileSync(join(logs, "stdout.log"), `${lines.join("\n")}\n`);
  // output.log: two stderr lines first, then every stdout line, each a record of its own time.
  const records = ["1000 e first error", "1001 e second error", ...lines.map((l, i) => `${2_000 + i} o ${l}`)];
  writeFileSync(join(logs, "output.log"), `${records.join("\n")}\n`);
});
after(() => cleanup(d));

/** The CLI with room for all it prints (spawnSync keeps 1 MiB by default). */
function logs(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, "logs", id, ...args], { env: testEnv(d.home), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("logs --raw prints a log bigger than a chunk whole, byte for byte", () => {
  const out = logs("--raw").stdout;
  assert.equal(out.length, lines.join("\n").length + 1);
  assert.ok(out === `${lines.join("\n")}\n`, "the bytes as written");
});

test("logs -n 5 prints the last 5 lines of a log bigger than a chunk, from output.log and from one stream's file", () => {
  const last5 = `${lines.slice(-5).join("\n")}\n`;
  assert.equal(logs("-n", "5").stdout, last5);
  assert.equal(logs("--stdout", "-n", "5").stdout, last5);
});

test("logs of one rare stream finds its lines more than a chunk back in output.log", () => {
  const errs = logs("--stderr", "--timestamps", "-n", "5").stderr.trimEnd().split("\n");
  assert.deepEqual(errs, [`${new Date(1000).toISOString()} first error`, `${new Date(1001).toISOString()} second error`]);
});
