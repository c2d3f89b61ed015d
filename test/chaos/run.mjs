// Runs the chaos scenarios (test/chaos/*.chaos.ts), one after another — each measures the daemon
// and the machine, so none shares them with another — then prints every scenario's figure again
// as a summary. Not `*.test.ts`: `npm test` does not run them; `npm run test:chaos` does (after a
// build: they drive dist/, as users do). Pass file filters as arguments (`node test/chaos/run.mjs
// kill-9`). A scenario that hangs past its own timeout is stopped here after HARD_LIMIT_MS.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HARD_LIMIT_MS = 6 * 60_000;
const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = join(root, "test", "chaos");
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".chaos.ts"))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("no chaos scenario matched");
  process.exit(1);
}

/** Runs one scenario file; resolves with its exit code and the figure lines it printed. */
function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test-reporter=spec", join(dir, file)], { cwd: root, stdio: ["ignore", "pipe", "inherit"], detached: true });
    const figures = [];
    let buf = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      buf += chunk.toString("utf8");
      let nl;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("chaos ") || /^\s*﹣ /.test(line)) figures.push(line.trim());
      }
    });
    const timer = setTimeout(() => {
      console.error(`${file}: still running after ${HARD_LIMIT_MS / 60_000} minutes; stopping it`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, HARD_LIMIT_MS);
    // In a group of its own (so a hang takes its daemons along): pass a Ctrl-C on.
    const interrupt = () => {
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {
        // gone
      }
    };
    process.on("SIGINT", interrupt);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", interrupt);
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), figures });
    });
  });
}

const t0 = Date.now();
const results = [];
for (const file of files) {
  const started = Date.now();
  console.log(`\n== ${relative(root, join(dir, file))}`);
  const r = await runFile(file);
  results.push({ file, seconds: (Date.now() - started) / 1000, ...r });
}
console.log(`\n== chaos summary (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
for (const r of results) {
  console.log(`${r.code === 0 ? "pass" : "FAIL"}  ${r.file} (${r.seconds.toFixed(0)} s)`);
  for (const f of r.figures) console.log(`      ${f}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
