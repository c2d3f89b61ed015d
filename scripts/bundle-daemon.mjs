// Bundles the daemon (daemon/main.ts and everything it imports, zod, pino, proper-lockfile and
// json-rpc-2.0 included) into one minified ES module, replacing tsc's dist/daemon/main.js: the
// process `cpwd start` and the login service run (`node dist/daemon/main.js`), and what `cpwd
// daemon` imports. Why: the daemon is resident, and much of its idle memory was code. zod
// alone loads 95 files (~1 MiB of source, every locale among them), pino 29, and importing a
// CommonJS package from an ES module brings in Node's CommonJS loader. Measured here one after
// another, 20 s after start: 62-65 MiB RSS unbundled, 57 MiB bundled with json-rpc-2.0 left out,
// 51.6 MiB as below; started through `cpwd daemon`, 55 MiB (pm2's daemon: ~53 MiB), which is why
// the bundle is its own entry (daemon/main.ts) and node's flags for it are in cli/service/spec.ts.
// The cost is stack traces in daemon.log with short names: dist/daemon/main.js.map maps them back
// (node --enable-source-maps, or any source-map tool), and is never loaded by the daemon itself.
// The CLI's other imports of daemon/ files (offline reads) keep tsc's own files.
import { build } from "esbuild";

await build({
  entryPoints: ["daemon/main.ts"],
  outfile: "dist/daemon/main.js",
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  // The MCP SDK is the CLI's. Bundled CommonJS packages (pino, proper-lockfile, json-rpc-2.0) get
  // a real `require` for Node's built-ins.
  external: ["@modelcontextprotocol/*"],
  banner: { js: 'import { createRequire as __cpwdRequire } from "node:module"; const require = __cpwdRequire(import.meta.url);' },
  logLevel: "warning",
});
