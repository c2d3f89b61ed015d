// A small, strict argument parser for the CLI: declared flags only, a clear error naming the bad
// argument, `--` ends options. No dependency: `node:util.parseArgs` lacks repeatable K=V checks
// and good messages, and start-up time matters for `status`.
import { CpwdError, ErrorCode } from "../src/protocol/errors.js";

export interface FlagSpec {
  /** "bool" takes no value; "string" takes one; "list" may repeat. */
  kind: "bool" | "string" | "list";
  short?: string;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after `--`. */
  rest: string[];
}

/**
 * A mistake in how a command was called: INVALID_ARGUMENT marked `usage`, so the entry point
 * answers it with the command's usage and exit 2 (other INVALID_ARGUMENTs are not usage errors).
 */
export function usageError(message: string): CpwdError {
  return new CpwdError(ErrorCode.InvalidArgument, message, { details: { usage: true } });
}

export function isUsageError(err: unknown): err is CpwdError {
  return err instanceof CpwdError && err.code === ErrorCode.InvalidArgument && err.details?.usage === true;
}

/** Parses argv against `spec`; throws INVALID_ARGUMENT for an unknown flag or a missing value. */
export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): Parsed {
  const flags: Parsed["flags"] = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return { flags, positionals, rest: argv.slice(i + 1) };
    // A negative number (`config set X -1`) is a value, not an option: no option is a digit.
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = byShort.get(arg.slice(1));
      if (!long) throw usageError(`unknown option ${arg}`);
      name = long;
    }
    const s = spec[name];
    if (!s) throw usageError(`unknown option --${name}`);
    if (s.kind === "bool") {
      if (inline !== undefined) throw usageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    // `--grace -- cmd`: the `--` ends the options, it is not the value.
    if (value === undefined || (inline === undefined && value === "--")) throw usageError(`--${name} needs a value`);
    if (s.kind === "list") flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, positionals, rest: [] };
}
