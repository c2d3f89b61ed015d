// `npm run bench`: every figure of issue 11's speed table measured in one run, each beside its
// baseline from the same run, its target and its verdict; one table printed, bench/results.json
// written. Not a test: nothing fails on a miss; it says so. The machine is shared and noisy: the
// figures are medians of interleaved runs.
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { benchCli } from "./cli.js";
import { benchEvents } from "./events.js";
import { benchHooks } from "./hooks.js";
import { benchHookTransport } from "./hook-transport.js";
import { formatTable, verdict, type Figure } from "./lib.js";
import { benchReplay } from "./replay.js";
import { benchRpc } from "./rpc.js";
import { benchSupervisor } from "./supervisor.js";

const sections: Record<string, () => Promise<Figure[]>> = {
  cli: benchCli,
  rpc: benchRpc,
  events: benchEvents,
  supervisor: benchSupervisor,
  replay: benchReplay,
  hooks: benchHooks,
  "hook-transport": benchHookTransport,
};
/** Older names still accepted. */
const aliases: Record<string, string[]> = { foundation: ["cli", "rpc", "events"] };

// `npm run bench -- supervisor hooks` runs only the sections named; no names, all of them.
const asked = process.argv.slice(2).flatMap((a) => aliases[a] ?? [a]);
const unknown = asked.filter((a) => !(a in sections));
if (unknown.length > 0) {
  console.error(`unknown section ${unknown.join(", ")}; sections: ${[...Object.keys(sections), ...Object.keys(aliases)].join(", ")}`);
  process.exit(2);
}
const chosen = Object.keys(sections).filter((s) => asked.length === 0 || asked.includes(s));

const machine = {
  nproc: Number(execSync("nproc", { encoding: "utf8" }).trim()),
  cpu: cpus()[0]?.model ?? "unknown",
  memoryMiB: Math.round(totalmem() / 1024 / 1024),
  kernel: execSync("uname -sr", { encoding: "utf8" }).trim(),
  loadavgAtStart: execSync("cat /proc/loadavg", { encoding: "utf8" }).trim(),
};
const date = new Date().toISOString();
console.error(`cpwd bench — node ${process.version}, ${machine.nproc} CPUs, ${machine.memoryMiB} MiB, ${date}; sections: ${chosen.join(", ")}`);

const figures: Array<Figure & { section: string }> = [];
for (const name of chosen) {
  const t0 = performance.now();
  console.error(`… ${name}`);
  for (const f of await sections[name]!()) figures.push({ ...f, section: name });
  console.error(`  ${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

console.log(formatTable(figures));
const misses = figures.filter((f) => verdict(f) === "MISS");
const above = figures.filter((f) => verdict(f) === "above ref");
const label = (f: Figure): string => f.name + (f.note ? ` (${f.note})` : "");
const targets = figures.filter((f) => f.target && !f.target.keep).length;
console.log(targets === 0 ? "\nNo hard targets in these sections." : misses.length === 0 ? `\nAll ${targets} targets met.` : `\n${misses.length} of ${targets} targets missed: ${misses.map(label).join("; ")}.`);
if (above.length > 0) console.log(`Above today's reference ("keep"): ${above.map(label).join("; ")}.`);

const loadavgAtEnd = execSync("cat /proc/loadavg", { encoding: "utf8" }).trim();
console.error(`load average at start ${machine.loadavgAtStart}; at end ${loadavgAtEnd}`);
const out = fileURLToPath(new URL("results.json", import.meta.url));
writeFileSync(
  out,
  `${JSON.stringify({ date, node: process.version, machine: { ...machine, loadavgAtEnd }, sections: chosen, figures: figures.map((f) => ({ ...f, verdict: verdict(f) })), table: formatTable(figures) }, null, 2)}\n`,
);
console.error(`written ${out}`);
