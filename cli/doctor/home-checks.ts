// `cpwd doctor`'s checks of the machine and the state folder: Node's version, CPWD_HOME, the
// permissions of everything in it (folders 0700, files 0600: only their owner may read them), and
// config.json.
import { readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { plural } from "../../src/protocol/plural.js";
import { fail, lstatOrNull, ok, shellPath, warn, type Doctor, type Finding } from "./check.js";

/** The oldest Node cpwd runs on (package.json's engines). */
export const MIN_NODE_MAJOR = 20;

/** How many paths a finding names before it says "and N more". */
const NAMED_PATHS = 3;

/** The Node running cpwd: the one the hooks, the MCP server and the login service run too. */
export function checkNode(d: Doctor): Finding {
  const version = process.versions.node;
  const major = Number(version.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return ok(`${version} (${d.ctx.nodePath})`);
  return fail(`${version} is too old (${d.ctx.nodePath}); cpwd needs Node ≥ ${MIN_NODE_MAJOR}`, `install Node ${MIN_NODE_MAJOR} or later, then run cpwd with it`);
}

const myUid = (): number | null => (typeof process.getuid === "function" ? process.getuid() : null);

/** CPWD_HOME: where it is and why, that it is a folder, and that it is ours. */
export function checkHome(d: Doctor): Finding {
  const home = d.paths.home;
  const from = d.ctx.env.CPWD_HOME?.trim() ? "CPWD_HOME" : "the default; set CPWD_HOME to move it";
  const st = lstatOrNull(home);
  if (st === null) return warn(`${home} (${from}) does not exist yet`, "`cpwd start` creates it");
  if (!st.isDirectory()) return fail(`${home} is not a folder`, "move it away, or point CPWD_HOME at a folder");
  const uid = myUid();
  if (uid !== null && st.uid !== uid) return fail(`${home} belongs to uid ${st.uid}, not to you (uid ${uid})`, "set CPWD_HOME to a folder of your own");
  return ok(`${home} (${from})`);
}

/** Entries under `dir` whose mode lets group or others in, or that belong to someone else. */
function walkLoose(dir: string, out: { loose: string[]; foreign: string[] }, skip: (path: string) => boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // gone meanwhile, or unreadable: the entry itself was judged by its parent's pass
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = lstatOrNull(path);
    if (st === null || st.isSymbolicLink()) continue;
    judge(path, st, out);
    if (st.isDirectory() && !skip(path)) walkLoose(path, out, skip);
  }
}

function judge(path: string, st: Stats, out: { loose: string[]; foreign: string[] }): void {
  const uid = myUid();
  if (uid !== null && st.uid !== uid) out.foreign.push(path);
  else if ((st.mode & 0o077) !== 0) out.loose.push(path);
}

function named(paths: string[]): string {
  const more = paths.length > NAMED_PATHS ? ` and ${paths.length - NAMED_PATHS} more` : "";
  return `${paths.slice(0, NAMED_PATHS).join(", ")}${more}`;
}

/**
 * Everything cpwd keeps in CPWD_HOME is private to its user: folders 0700, files 0600 (the worker
 * wrapper 0700). A `--worktree` worker's checkout under worktrees/ is the user's code, written
 * with their umask, so only the folder holding them is judged. A loose config.json alone is a warning.
 */
export function checkPermissions(d: Doctor): Finding {
  if (process.platform === "win32") return ok("not checked on Windows (CPWD_HOME is in your profile)");
  const home = d.paths.home;
  const st = lstatOrNull(home);
  if (st === null || !st.isDirectory()) return ok("nothing to check yet");
  const out = { loose: [] as string[], foreign: [] as string[] };
  judge(home, st, out);
  const worktrees = join(home, "worktrees");
  walkLoose(home, out, (path) => path === worktrees);
  if (out.foreign.length > 0) {
    return fail(`${plural(out.foreign.length, "entry", "entries")} ${out.foreign.length === 1 ? "belongs" : "belong"} to another user: ${named(out.foreign)}`, `\`sudo chown -R "$USER" ${shellPath(home)}\``);
  }
  if (out.loose.length === 0) return ok("folders 0700, files 0600");
  const fix = out.loose.length > NAMED_PATHS ? `chmod -R go-rwx ${shellPath(home)}` : `chmod go-rwx ${out.loose.map(shellPath).join(" ")}`;
  const what = `${out.loose.length} readable by others (files must be 0600, folders 0700): ${named(out.loose)}`;
  // config.json is often written by hand with the umask's 0644, and holds no output or prompt.
  return out.loose.length === 1 && out.loose[0] === d.paths.config ? warn(what, `\`${fix}\``) : fail(what, `\`${fix}\``);
}

/** config.json: absent is fine (defaults); one the daemon would refuse keeps it from starting. */
export function checkConfig(d: Doctor): Finding {
  if (d.configError !== null) return fail(`${d.configError}; the daemon does not start with it`, `fix it by hand, or \`cpwd config set KEY VALUE\` / \`cpwd config unset KEY\``);
  if (lstatOrNull(d.paths.config) === null) return ok("no config.json (defaults)");
  return ok(d.paths.config);
}
