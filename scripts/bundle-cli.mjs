// Bundles the `cpwd` entry point with `status`'s path into one ES module, replacing tsc's
// dist/cli/main.js. `cpwd status` is the command people run most and its start-up is mostly Node's
// module loader: ~20 ES modules and json-rpc-2.0's six CommonJS files become one file (measured
// in bench/cli.ts). Every other command, and what status loads only on demand (one worker's
// description, --watch), stays tsc's own file under dist/, loaded by the same `import()` as before.
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT_DIR = join(ROOT, "dist", "cli");
/** The modules bundled in, besides what they import statically. */
const BUNDLED = new Set([join(ROOT, "cli", "commands", "status.ts")]);
/**
 * Kept as tsc's own files, shared with the commands loaded at run time: one CpwdError class, so the
 * entry's `instanceof` still recognises an error thrown by any command.
 */
const SHARED = new Set([join(ROOT, "src", "protocol", "errors.ts")]);

/** A project import as the dist path it has after tsc, relative to the bundle (`./commands/x.js`). */
function distSpecifier(resolveDir, specifier) {
  const source = resolve(resolveDir, specifier);
  const rel = relative(OUT_DIR, join(ROOT, "dist", relative(ROOT, source))).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

const keepUnbundled = {
  name: "keep-unbundled",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== "dynamic-import" && args.kind !== "import-statement") return undefined;
      const source = resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts");
      if (args.kind === "dynamic-import" ? BUNDLED.has(source) : !SHARED.has(source)) return undefined;
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
};

await build({
  entryPoints: [join(ROOT, "cli", "main.ts")],
  outfile: join(OUT_DIR, "main.js"),
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  plugins: [keepUnbundled],
  logLevel: "warning",
});
