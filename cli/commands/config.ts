// `cpwd config get [KEY]` · `set KEY VALUE` · `unset KEY`: reads and edits $CPWD_HOME/config.json
// through its schema (src/platform/config.ts). A change is validated with the whole file before it
// is written, atomically; a file that cannot be parsed is reported with its position and never
// overwritten. Most keys are read by the daemon when it starts; a few are read at each use.
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type CliContext, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { describeIssues, formatPath, parseJsonText } from "../../src/protocol/schema-errors.js";
import { SHIM_CONFIG_FIELDS } from "../../hooks/shim-settings.js";
import { ConfigSchema, type Config } from "../../src/platform/config.js";
import { writeAtomically } from "../../src/platform/atomic-file.js";

/** Keys read at each use rather than when the daemon starts, and who reads them. */
const LIVE_KEYS: Record<string, string> = {
  ...Object.fromEntries(Object.values(SHIM_CONFIG_FIELDS).map((k) => [k, "the hook shim reads it at each call"])),
  claudeBin: "`cpwd claude` reads it each time it starts a worker",
  claudePermissionMode: "`cpwd claude` reads it each time it starts a worker",
};

/** config.json's own fields (not the defaults), or the lines saying why it cannot be used as it is. */
type FileFields = { ok: true; fields: Record<string, unknown>; exists: boolean } | { ok: false; problems: string[] };

async function readFields(file: string): Promise<FileFields> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: true, fields: {}, exists: false };
    return { ok: false, problems: [`${file}: cannot be read (${code ?? (err as Error).message})`] };
  }
  const json = parseJsonText(text);
  if (!json.ok) return { ok: false, problems: [`${file}:${json.line}:${json.column}: not valid JSON: ${json.message}; fix it by hand (cpwd does not write over a file it cannot parse)`] };
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value)) {
    return { ok: false, problems: [`${file}: expected an object ({"maxParallel": 8, …}); fix it by hand (cpwd does not write over it)`] };
  }
  return { ok: true, fields: json.value as Record<string, unknown>, exists: true };
}

/** The effective config of `fields` (defaults filled in), or one line per problem, naming the field. */
function validate(file: string, fields: Record<string, unknown>): { ok: true; config: Config } | { ok: false; problems: string[] } {
  const parsed = ConfigSchema.safeParse(fields, { reportInput: true });
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, problems: describeIssues(parsed.error.issues).map((p) => `${file}: ${p.path.length > 0 ? `${formatPath(p.path)}: ` : ""}${p.message}`) };
}

/** A value as `get` prints it: strings bare (for scripts), the rest as JSON. */
function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A key of the schema, else a usage error listing them. */
function knownKey(key: string | undefined): keyof Config {
  const keys = Object.keys(ConfigSchema.shape);
  if (key === undefined) throw usageError("name a key");
  if (!keys.includes(key)) throw usageError(`unknown key '${key}'; the keys: ${keys.join(", ")}`);
  return key as keyof Config;
}

/** VALUE as JSON when it parses as JSON (8, true, null, "x", [..]), else as the string it is. */
function parseValue(text: string): unknown {
  const json = parseJsonText(text);
  return json.ok ? json.value : text;
}

function fail(ctx: CliContext, problems: string[]): number {
  for (const line of problems) writeLine(ctx.stderr, line);
  return 1;
}

/** `get [KEY]`: the effective config as JSON, or one key's value. */
async function get(file: string, key: keyof Config | undefined, ctx: CliContext): Promise<number> {
  const read = await readFields(file);
  if (!read.ok) return fail(ctx, read.problems);
  const checked = validate(file, read.fields);
  if (!checked.ok) return fail(ctx, checked.problems);
  writeLine(ctx.stdout, key === undefined ? JSON.stringify(checked.config, null, 2) : show(checked.config[key]));
  return 0;
}

/** `set KEY VALUE` (value given) or `unset KEY`: the whole result validated, then written atomically. */
async function edit(file: string, name: keyof Config, value: string | undefined, ctx: CliContext): Promise<number> {
  const read = await readFields(file);
  if (!read.ok) return fail(ctx, read.problems);
  const before = validate(file, read.fields);
  const fields = { ...read.fields };
  if (value !== undefined) fields[name] = parseValue(value);
  else delete fields[name];
  const after = validate(file, fields);
  if (!after.ok) return fail(ctx, [...after.problems, read.exists ? `${file} is unchanged` : `${file} was not written`]);
  // Keep the file's mode (it may have been made private); a new one is private like all of CPWD_HOME.
  const mode = read.exists ? statSync(file).mode & 0o777 : 0o600;
  await writeAtomically(file, `${JSON.stringify(fields, null, 2)}\n`, mode);
  const was = before.ok ? show(before.config[name]) : name in read.fields ? show(read.fields[name]) : "unset";
  writeLine(ctx.stdout, `${name}: ${was} → ${show(after.config[name])}${value === undefined ? " (the default)" : ""}`);
  writeLine(ctx.stdout, LIVE_KEYS[name] ? `${LIVE_KEYS[name]}: it applies now` : "the daemon reads config.json when it starts: `cpwd stop && cpwd start` applies it");
  return 0;
}

export const run: Command = async (argv, ctx) => {
  const { positionals, rest } = parseArgs(argv, {});
  // A value may start with '-' (a negative number): it can follow `--`.
  const [action, key, ...values] = [...positionals, ...rest];
  const file = cliPaths(ctx).config;
  if (action === "get") {
    if (values.length > 0) throw usageError("get takes one key at most");
    return get(file, key === undefined ? undefined : knownKey(key), ctx);
  }
  if (action !== "set" && action !== "unset") throw usageError(action === undefined ? "say get, set or unset" : `unknown action '${action}' (get, set or unset)`);
  const name = knownKey(key);
  if (action === "unset") {
    if (values.length > 0) throw usageError("unset takes a key only");
    return edit(file, name, undefined, ctx);
  }
  if (values.length !== 1) throw usageError(values.length === 0 ? `set ${name} needs a value` : "set takes one value (quote it if it has spaces)");
  return edit(file, name, values[0], ctx);
};
