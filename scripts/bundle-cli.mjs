// Bundles the `cpwd` entry point with `status`'s path twice: as CommonJS (dist/cli/main-bundle.*.cjs,
// minified, run by the small loader dist/cli/main.cjs with a V8 code cache made here) and as one ES
// module, dist/cli/main.js, replacing tsc's (the entry the tests, the hook shim and older installs
// run). `cpwd status` is the command people run most and its start-up is mostly Node's: ~20 ES
// modules become one file; as CommonJS, Node does not start its ES module loader at all; the code
// cache spares compiling it (`status` / node -e 0, paired at load ~3-5: ES module bundle 1.25-1.28×,
// CommonJS 1.19×, with the cache 1.15×). Every other command, and what status loads only on demand
// (one worker's description, --watch, the record when the daemon is down), stays tsc's own ES module
// under dist/, loaded by `import()`.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT_DIR = join(ROOT, "dist", "cli");
/** The modules bundled in, besides what they import statically. */
const BUNDLED = new Set([
  join(ROOT, "cli", "commands", "status.ts"),
  join(ROOT, "src", "platform", "version.ts"),
]);
/**
 * Kept as tsc's own files by the ES module bundle, shared with the commands loaded at run time:
 * one CpwdError class. The CommonJS bundle cannot `require` an ES module on Node 20, so it keeps
 * its own copy, and cli/main.ts asks both copies whether an error is a usage error.
 */
const SHARED = new Set([join(ROOT, "src", "protocol", "errors.ts")]);

/** A project import as the dist path it has after tsc, relative to the bundle (`./commands/x.js`). */
function distSpecifier(resolveDir, specifier) {
  const source = resolve(resolveDir, specifier);
  const rel = relative(OUT_DIR, join(ROOT, "dist", relative(ROOT, source))).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Bundles static imports (but those in `shared`) and the BUNDLED dynamic ones; the rest stay `import()`s of dist files. */
const keepUnbundled = (shared) => ({
  name: "keep-unbundled",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== "dynamic-import" && args.kind !== "import-statement") return undefined;
      const source = resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts");
      if (args.kind === "dynamic-import" ? BUNDLED.has(source) : !shared.has(source)) return undefined;
      return { path: distSpecifier(args.resolveDir, args.path), external: true };
    });
    // json-rpc-2.0 is CommonJS, loaded through createRequire in src/rpc/client.ts (cheaper than
    // `import` unbundled); here, a plain require lets esbuild put it in the bundle.
    b.onLoad({ filter: /[\\/]src[\\/]rpc[\\/]client\.ts$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(args.path, "utf8");
      const wanted = 'createRequire(import.meta.url)("json-rpc-2.0")';
      if (!text.includes(wanted)) throw new Error(`bundle-cli: ${args.path} no longer loads json-rpc-2.0 as ${wanted}`);
      return { contents: text.replace(wanted, 'require("json-rpc-2.0")'), loader: "ts" };
    });
  },
});

/** Writes a file beside its place and renames it there. */
function writeWhole(file, text, mode = 0o644) {
  writeFileSync(`${file}.tmp`, text, { mode });
  renameSync(`${file}.tmp`, file);
}

const common = {
  entryPoints: [join(ROOT, "cli", "main.ts")],
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  target: "node20",
  logLevel: "warning",
};
await build({ ...common, outfile: join(OUT_DIR, "main.js"), format: "esm", plugins: [keepUnbundled(SHARED)] });

// The CommonJS bundle, as one function expression that main.cjs compiles with a V8 code cache.
const cjs = await build({
  ...common,
  write: false,
  outfile: join(OUT_DIR, "main-bundle.cjs"),
  format: "cjs",
  minify: true,
  // `import.meta.url` (the entry's own path, createRequire's base) as CommonJS has it; "use strict"
  // comes first so that the whole bundle stays strict, as the ES modules it came from.
  define: { "import.meta.url": "__cpwdEntryUrl" },
  banner: { js: '"use strict";var __cpwdEntryUrl=require("node:url").pathToFileURL(__filename).href;' },
  plugins: [keepUnbundled(new Set())],
});
// Node 20 gives a script compiled from a code cache no `import()` (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING):
// the bundle's dynamic imports of dist files go through the loader's own `import()` instead.
const code = cjs.outputFiles[0].text.replace(/^#!.*\n/, "").replace(/\bimport\((?="\.\.?\/)/g, "__cpwdImport(");
if (/\bimport\(/.test(code)) throw new Error("bundle-cli: an import() the loader cannot serve is left in the CommonJS bundle");
const body = `(function (exports, require, module, __filename, __dirname, __cpwdImport) {${code}\n})`;

// The bundle and its code cache are named by the bundle's hash, and main.cjs (written last, renamed
// into place whole) names the pair: V8 checks only a cache's length against the source, so a cache
// must never meet another bundle, not even while a build runs beside a `cpwd` starting.
const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
const bundleName = `main-bundle.${hash}.cjs`;
const cacheName = `main-bundle.${hash}.v8`;
writeWhole(join(OUT_DIR, bundleName), body);
// The code cache: every function compiled (--no-lazy while compiling, the default flags again when
// serialising, so that V8 accepts it at run time), made by this Node in a clean child.
const makeCache = `const v8 = require("node:v8"), { Script } = require("node:vm"), fs = require("node:fs");
v8.setFlagsFromString("--no-lazy");
const script = new Script(fs.readFileSync(${JSON.stringify(join(OUT_DIR, bundleName))}, "utf8"));
v8.setFlagsFromString("--lazy");
fs.writeFileSync(${JSON.stringify(join(OUT_DIR, `${cacheName}.tmp`))}, script.createCachedData());
fs.renameSync(${JSON.stringify(join(OUT_DIR, `${cacheName}.tmp`))}, ${JSON.stringify(join(OUT_DIR, cacheName))});`;
const { NODE_OPTIONS: _ignored, ...cleanEnv } = process.env;
const made = spawnSync(process.execPath, ["-e", makeCache], { env: cleanEnv, stdio: ["ignore", "inherit", "inherit"] });
if (made.status !== 0) throw new Error(`bundle-cli: the code cache was not made (exit ${made.status})`);

// The pair the main.cjs being replaced names: kept one build longer, for a `cpwd` that has just
// read that main.cjs and is about to load them.
let previous = [];
try {
  previous = readFileSync(join(OUT_DIR, "main.cjs"), "utf8").match(/main-bundle\.[0-9a-f]+\.(?:cjs|v8)/g) ?? [];
} catch {
  // no earlier build
}
writeWhole(
  join(OUT_DIR, "main.cjs"),
  `#!/usr/bin/env node
// The \`cpwd\` command. Written by scripts/bundle-cli.mjs: runs the CommonJS bundle, compiled with
// the V8 code cache made beside it at build time (which another Node's V8 rejects: then compiled anew).
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { Script } = require("node:vm");
const bundle = join(__dirname, ${JSON.stringify(bundleName)});
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, ${JSON.stringify(cacheName)}));
} catch {
  // no cache: compiled from source
}
new Script(readFileSync(bundle, "utf8"), { filename: bundle, cachedData }).runInThisContext()(module.exports, require, module, __filename, __dirname, (specifier) => import(specifier));
`,
  0o755,
);
// Older builds' bundles and caches: neither main.cjs nor the one before it names them. A `.tmp`
// may be another build's, running beside this one: left to it.
const kept = new Set([bundleName, cacheName, ...previous]);
for (const old of readdirSync(OUT_DIR)) {
  if (/^main-bundle\./.test(old) && !old.endsWith(".tmp") && !kept.has(old)) rmSync(join(OUT_DIR, old), { force: true });
}
