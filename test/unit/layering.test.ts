// The layers point one way: protocol → event log / rpc → daemon → CLI and hooks. This reads the
// import lines of every source file and fails on an import against the flow.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { REPO } from "../helpers/daemon.js";

function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file (static and dynamic), as repo-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => relative(REPO, resolve(REPO, dirname(file), s)).replace(/\.js$/, ".ts"));
}

/** Bare package imports of a file. */
function packagesOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\)?\(\s*)["']([^."'][^"']*)["']/g)].map((m) => m[1]!);
}

const all = [...sources("src"), ...sources("daemon"), ...sources("hooks")];

test("src/ below the CLI never imports daemon/ or hooks/", () => {
  for (const f of all.filter((f) => f.startsWith("src/") && !f.startsWith("src/cli/"))) {
    for (const imp of importsOf(f)) {
      assert.ok(!imp.startsWith("daemon/") && !imp.startsWith("hooks/"), `${f} imports ${imp}`);
    }
  }
});

test("src/protocol imports nothing but itself and zod", () => {
  for (const f of all.filter((f) => f.startsWith("src/protocol/"))) {
    for (const imp of importsOf(f)) assert.ok(imp.startsWith("src/protocol/"), `${f} imports ${imp}`);
    for (const p of packagesOf(f)) assert.ok(p === "zod" || p.startsWith("node:"), `${f} imports ${p}`);
  }
});

test("daemon/ never imports the CLI or the hooks", () => {
  for (const f of all.filter((f) => f.startsWith("daemon/"))) {
    for (const imp of importsOf(f)) {
      assert.ok(!imp.startsWith("src/cli/") && !imp.startsWith("hooks/"), `${f} imports ${imp}`);
    }
  }
});

test("the hook shim's import graph holds no zod, no pino and nothing from daemon/", () => {
  const seen = new Set<string>();
  const stack: string[] = all.filter((f) => f === "hooks/shim.ts");
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    assert.ok(!f.startsWith("daemon/"), `the shim reaches ${f}`);
    const text = readFileSync(join(REPO, f), "utf8");
    // Type-only imports are erased at compile time and cost nothing at run time.
    const runtime = text.replace(/^import type .*$/gm, "");
    for (const p of [...runtime.matchAll(/(?:from\s+|import\s*\(\s*)["']([^."'][^"']*)["']/g)].map((m) => m[1]!)) {
      assert.ok(p.startsWith("node:"), `${f} (on the shim's path) imports the package ${p}`);
    }
    for (const m of runtime.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)) {
      stack.push(relative(REPO, resolve(REPO, dirname(f), m[1]!)).replace(/\.js$/, ".ts"));
    }
  }
  assert.ok(seen.size >= 1);
});
