// Runs every test/**/*.test.ts with Node's test runner through tsx. A script rather than a shell
// glob because npm runs scripts with sh, which has no `**`. Pass file filters as arguments:
// `node test/run.mjs unit` runs only paths containing "unit".
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
  );
}
const filters = process.argv.slice(2);
const files = walk(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const concurrency = process.env.CPWD_TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  // A test that hangs fails after 4 minutes rather than holding the run (and CI) forever.
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-timeout=240000", "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(r.status ?? 1);
