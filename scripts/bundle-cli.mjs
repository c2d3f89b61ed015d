// Bundles the `cpwd` entry point with `status`'s path twice: dist/cli/main.cjs, one minified
// CommonJS file, and dist/cli/main.js, one ES module replacing tsc's (the entry tests, the hook
// shim and older installs run). `cpwd status` is the command people run most and its start-up is
// mostly Node's module loader: ~20 ES modules become one file, and as CommonJS Node does not start
// its ES module loader at all (node -e 0 × 1.25 → 1.18 for `status`, measured in bench/cli.ts).
// Every other command, and what status loads only on demand (one worker's description, --watch,
// the record when the daemon is down), stays tsc's own ES module under dist/, loaded by `import()`.
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT_DIR = join(ROOT, "dist", "cli");
/** The modules bundled in, besides what they import statically. */
const BUNDLED = new Set([
  join(ROOT, "cli", "commands", "status.ts"),
  join(ROOT, "src", "platform", "atomic-file.ts"),
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

const common = {
  entryPoints: [join(ROOT, "cli", "main.ts")],
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  target: "node20",
  logLevel: "warning",
};
await build({ ...common, outfile: join(OUT_DIR, "main.js"), format: "esm", plugins: [keepUnbundled(SHARED)] });
await build({
  ...common,
  outfile: join(OUT_DIR, "main.cjs"),
  format: "cjs",
  minify: true,
  // `import.meta.url` (the entry's own path, createRequire's base) as CommonJS has it; the banner's
  // "use strict" comes first so that the whole file stays strict, as the ES modules it came from.
  define: { "import.meta.url": "__cpwdEntryUrl" },
  banner: { js: '"use strict";var __cpwdEntryUrl=require("node:url").pathToFileURL(__filename).href;' },
  plugins: [keepUnbundled(new Set())],
});
