// `cpwd doctor`'s checks of the running daemon: its socket, whether it answers (and runs this
// cpwd's version), and who holds the instance lock on events.jsonl.
import { ownerAlive } from "../../daemon/instance.js";
import { isAlive } from "../../src/platform/proc.js";
import { readVersion } from "../../src/platform/version.js";
import { instanceLockDir, readLockOwner } from "../../src/records/instance-lock.js";
import { fail, lstatOrNull, ok, shellPath, warn, type Doctor, type Finding } from "./check.js";

/** The socket's folder: 0700 and ours, wherever it is (a long CPWD_HOME puts it under /tmp). */
function socketDirProblem(dir: string): Finding | null {
  const st = lstatOrNull(dir);
  if (st === null) return null;
  if (!st.isDirectory()) return fail(`${dir} is not a folder`, `remove it (\`rm ${shellPath(dir)}\`), then \`cpwd start\``);
  const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
  if (st.uid !== uid) return fail(`${dir} belongs to uid ${st.uid}`, "set CPWD_HOME to a folder of your own, or have its owner remove it");
  if ((st.mode & 0o077) !== 0) return fail(`${dir} is mode ${(st.mode & 0o777).toString(8)}, not 700`, `\`chmod 700 ${shellPath(dir)}\``);
  return null;
}

/** The RPC endpoint: a socket file (0600 in a 0700 folder), or a named pipe on Windows. */
export function checkSocket(d: Doctor): Finding {
  const { socket, socketDir, home } = d.paths;
  if (process.platform === "win32") return d.daemon ? ok(`${socket} (answering)`) : ok(`${socket} (named pipe; no daemon running)`);
  const where = socket.startsWith(home) ? socket : `${socket} (CPWD_HOME's own path is too long for a socket)`;
  const dirProblem = socketDirProblem(socketDir);
  if (dirProblem) return dirProblem;
  const st = lstatOrNull(socket);
  if (st === null) return d.daemon ? fail(`${socket} is missing, yet a daemon answers`, "`cpwd stop`, then `cpwd start`") : ok(`${where} (no daemon running)`);
  if (!st.isSocket()) return fail(`${socket} is not a socket`, `remove it (\`rm ${shellPath(socket)}\`), then \`cpwd start\``);
  if (d.daemonRefused) return fail(`${socket} refuses you: ${d.daemonRefused}`, "the daemon belongs to another user: set CPWD_HOME to a folder of your own");
  if ((st.mode & 0o077) !== 0) return fail(`${socket} is mode ${(st.mode & 0o777).toString(8)}, not 600`, `\`chmod 600 ${shellPath(socket)}\``);
  if (!d.daemon) {
    const holder = readLockOwner(instanceLockDir(d.paths.events));
    if (holder && ownerAlive(holder)) return warn(`nobody answers on ${socket}, yet its daemon (pid ${holder.pid}) is alive`, "see the lock check");
    return warn(`${socket} is left from a daemon that did not shut down`, "`cpwd start` replaces it");
  }
  return ok(`${where} (answering)`);
}

/** A daemon that answers, runs this cpwd's version, and can write its record. */
export function checkDaemon(d: Doctor): Finding {
  if (!d.daemon) return d.daemonRefused ? fail(`cannot reach it: ${d.daemonRefused}`) : warn("not running", "`cpwd start`");
  const { pid, version, eventLogFailure } = d.daemon;
  if (eventLogFailure) {
    const why = eventLogFailure.errno === "ENOSPC" ? "the disk is full" : eventLogFailure.errno;
    return fail(`pid ${pid} cannot write events.jsonl since ${eventLogFailure.since} (${why}); requests that must be recorded are refused`, "free disk space: the daemon resumes by itself");
  }
  const mine = readVersion();
  if (version !== mine) return warn(`pid ${pid} runs cpwd ${version}, this cpwd is ${mine}`, "`cpwd stop && cpwd start` (workers keep running and are taken back)");
  return ok(`pid ${pid}, version ${version}`);
}

/**
 * The instance lock (`events.jsonl.lock/`, src/records/instance-lock.ts): held by the daemon that
 * answers, or free. A holder that is alive but does not answer keeps every new daemon out.
 */
export function checkLock(d: Doctor): Finding {
  const lockDir = instanceLockDir(d.paths.events);
  const exists = lstatOrNull(lockDir) !== null;
  const owner = readLockOwner(lockDir);
  const running = d.daemon;
  if (!exists) return running ? warn(`${lockDir} is missing while pid ${running.pid} runs (it exits when it notices)`, "`cpwd start` after it has gone") : ok("free");
  if (owner === null) {
    const why = "has no owner record (a daemon starting this instant, or one left by an older cpwd)";
    return running ? ok(`held while pid ${running.pid} answers (no owner record)`) : warn(`${lockDir} ${why}`, "`cpwd start` judges it by daemon.pid and takes it over if that daemon is gone");
  }
  const alive = ownerAlive(owner);
  if (running && owner.pid === running.pid) return ok(`held by the daemon (pid ${owner.pid})`);
  if (running) return fail(`held by pid ${owner.pid}, but the daemon answering is pid ${running.pid}`, `\`cpwd stop\`; if pid ${owner.pid} is a cpwd daemon, \`kill ${owner.pid}\`; then \`cpwd start\``);
  if (alive) {
    return fail(`held by pid ${owner.pid}, which is alive but does not answer on the socket (stopped or hung?)`, `\`kill ${owner.pid}\` (or \`kill -9 ${owner.pid}\`; its workers keep running), then \`cpwd start\``);
  }
  const gone = isAlive(owner.pid) ? "now another process" : "gone";
  return warn(`left by pid ${owner.pid}, which is ${gone} (a crash or kill -9)`, "`cpwd start` takes it over");
}
