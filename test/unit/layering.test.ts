// Folders are layers: a folder imports only from folders below it, with no exception inside a
// layer and no import cycle between files. This reads the import lines of every source file.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { REPO } from "../helpers/daemon.js";

/**
 * The house, bottom to top. A file may import files of its own folder and of any folder on a
 * lower floor; two folders on the same floor never import each other.
 */
const FLOORS: string[][] = [
  ["src/protocol"],
  ["src/platform"],
  ["src/eventlog", "src/rpc", "src/workers", "src/records"],
  ["daemon", "hooks"],
  // The CLI is the top: it may load the daemon's entry point (`cpwd daemon`) like anything below.
  ["cli"],
];

function sources(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(join(REPO, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Relative imports of a file (static, dynamic and type-only), as repo-relative paths. */
function importsOf(file: string, opts: { typeOnly: boolean } = { typeOnly: true }): string[] {
  let text = readFileSync(join(REPO, file), "utf8");
  // Type-only imports are erased at compile time: they cost nothing at run time.
  if (!opts.typeOnly) text = text.replace(/^import type [^;]*;$/gms, "");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => relative(REPO, resolve(REPO, dirname(file), s)).replace(/\.js$/, ".ts"));
}

/** Bare package imports of a file (type-only ones left out when asked). */
function packagesOf(file: string, opts: { typeOnly: boolean } = { typeOnly: true }): string[] {
  let text = readFileSync(join(REPO, file), "utf8");
  if (!opts.typeOnly) text = text.replace(/^import type [^;]*;$/gms, "");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\)?\(\s*)["']([^."'][^"']*)["']/g)].map((m) => m[1]!);
}

const all = ["src", "daemon", "hooks", "cli"].flatMap(sources);

/** The folder (a FLOORS entry) a file belongs to, and its floor. */
function placeOf(file: string): { folder: string; floor: number } {
  for (let floor = 0; floor < FLOORS.length; floor++) {
    for (const folder of FLOORS[floor]!) if (file.startsWith(`${folder}/`)) return { folder, floor };
  }
  throw new Error(`${file} is in no folder of the house: add its folder to FLOORS`);
}

test("every source file lives in a folder of the house", () => {
  for (const f of all) assert.doesNotThrow(() => placeOf(f), f);
});

test("a folder imports only its own files and folders on lower floors", () => {
  for (const f of all) {
    const from = placeOf(f);
    for (const imp of importsOf(f)) {
      const to = placeOf(imp);
      assert.ok(to.folder === from.folder || to.floor < from.floor, `${f} (${from.folder}) imports ${imp} (${to.folder})`);
    }
  }
});

test("no import cycle between files", () => {
  const graph = new Map(all.map((f) => [f, importsOf(f)]));
  const state = new Map<string, "open" | "done">();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === "done") return;
    assert.notEqual(state.get(f), "open", `import cycle: ${[...path.slice(path.indexOf(f)), f].join(" → ")}`);
    state.set(f, "open");
    for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
    state.set(f, "done");
  };
  for (const f of all) visit(f, []);
});

test("src/protocol imports nothing but itself, zod and Node's built-ins", () => {
  for (const f of all.filter((f) => f.startsWith("src/protocol/"))) {
    for (const p of packagesOf(f)) assert.ok(p === "zod" || p.startsWith("node:"), `${f} imports ${p}`);
  }
});

test("the hook shim's run-time import graph holds Node built-ins and project files only, none from daemon/", () => {
  const seen = new Set<string>();
  const stack = ["hooks/shim.ts"];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    assert.ok(!f.startsWith("daemon/") && !f.startsWith("cli/"), `the shim reaches ${f}`);
    for (const p of packagesOf(f, { typeOnly: false })) assert.ok(p.startsWith("node:"), `${f} (on the shim's path) imports the package ${p}`);
    stack.push(...importsOf(f, { typeOnly: false }));
  }
  assert.ok(seen.size > 1);
});
