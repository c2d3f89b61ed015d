// The JavaScript inside the pinned Claude Code CLI, written out to read. 2.1.331 ships no cli.js: it
// is a Bun-compiled binary whose sources (/$bunfs/root/chunk-*.js, minified) sit in its module
// table, and CPU profiles (BUN_OPTIONS="--cpu-prof --cpu-prof-dir=DIR") name them by chunk, line
// and column. docs/hooks.md ("What an HTTP hook costs inside Claude Code") cites lines of these.
//   node --import tsx bench/claude-code-source.ts OUT_DIR
// The table's layout is Bun's (StandaloneModuleGraph) as this binary has it; another Bun may differ,
// and then this says so instead of writing garbage.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CLAUDE_BIN } from "../test/helpers/claude.js";

const TRAILER = Buffer.from("\n---- Bun! ----\n");
/** Before the trailer: byte count (u64), modules (offset, length: u32 each), entry id, exec argv (u32 × 2), flags. */
const OFFSETS_BYTES = 32;
/** One module: name, contents, source map, bytecode, module info, bytecode origin (offset and length each, u32), then 4 bytes of flags. */
const MODULE_BYTES = 52;

const out = process.argv[2];
if (!out) {
  console.error("usage: node --import tsx bench/claude-code-source.ts OUT_DIR");
  process.exit(2);
}
const bin = readFileSync(CLAUDE_BIN);
const trailer = bin.lastIndexOf(TRAILER);
if (trailer < 0) throw new Error(`${CLAUDE_BIN}: no Bun module table`);
const offsets = trailer - OFFSETS_BYTES;
const base = offsets - Number(bin.readBigUInt64LE(offsets));
const modulesAt = base + bin.readUInt32LE(offsets + 8);
const modulesLength = bin.readUInt32LE(offsets + 12);
if (base < 0 || modulesLength % MODULE_BYTES !== 0) throw new Error(`${CLAUDE_BIN}: a module table of another layout`);
mkdirSync(out, { recursive: true });
let written = 0;
for (let at = modulesAt; at < modulesAt + modulesLength; at += MODULE_BYTES) {
  const slice = (field: number) => bin.subarray(base + bin.readUInt32LE(at + field), base + bin.readUInt32LE(at + field) + bin.readUInt32LE(at + field + 4));
  const name = slice(0).toString("utf8");
  if (!name.startsWith("/$bunfs/") || !name.endsWith(".js")) continue;
  writeFileSync(join(out, basename(name)), slice(8));
  written++;
}
console.log(`${written} files written to ${out}`);
