// `npm run bench`: every figure measured in one run, with ratios to baselines from the same run.
// Not a test: nothing here asserts; it prints. The machine is shared and noisy: read medians.
import { existsSync } from "node:fs";
import { benchFoundation } from "./foundation.js";
import { printTable, type Row } from "./lib.js";

type Bench = () => Promise<Row[]>;

/** Optional benches of other areas, loaded when present. */
async function optional(path: string, name: string): Promise<Bench | null> {
  if (!existsSync(new URL(path, import.meta.url))) return null;
  const mod = (await import(path)) as Record<string, Bench>;
  return mod[name] ?? null;
}

const benches: Array<[string, Bench | null]> = [
  ["foundation", benchFoundation],
  ["runner", await optional("./runner.ts", "benchRunner")],
  ["workers", await optional("./workers.ts", "benchWorkers")],
  ["hooks", await optional("./hooks.ts", "benchHooks")],
];

console.log(`cpwd bench — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, fn] of benches) {
  if (!fn) continue;
  console.log(`\n## ${name}`);
  printTable(await fn());
}
