// `npm run bench`: every figure measured in one run, with ratios to baselines from the same run.
// Not a test: nothing here asserts; it prints. The machine is shared and noisy: read medians.
import { benchFoundation } from "./foundation.js";
import { benchHooks } from "./hooks.js";
import { benchSupervisor } from "./supervisor.js";
import { printTable, type Row } from "./lib.js";

type Bench = () => Promise<Row[]>;

const benches: Array<[string, Bench | null]> = [
  ["foundation", benchFoundation],
  ["supervisor", benchSupervisor],
  ["hooks", benchHooks],
];

// `npm run bench -- supervisor hooks` runs only the sections named; no names, all of them.
const only = new Set(process.argv.slice(2));
console.log(`cpwd bench — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, fn] of benches) {
  if (!fn || (only.size > 0 && !only.has(name))) continue;
  console.log(`\n## ${name}`);
  printTable(await fn());
}
