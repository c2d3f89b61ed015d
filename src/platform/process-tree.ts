// What a process tree costs: CPU and resident memory of a worker's process, its descendants and
// whatever stays in its session or process group (a daemonised grandchild still counts). One
// pass over /proc/*/stat makes a snapshot (Linux only; elsewhere there is none, and callers show
// "-"); everything else is pure functions over snapshots, so a status call with 100 workers reads
// /proc once, and tests feed a made-up one.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { clockTicksPerSecond, pageBytes } from "./proc.js";

/** The fields of one /proc/<pid>/stat line this module reads. */
export interface ProcStat {
  pid: number;
  /** The command name (at most 15 bytes, as the kernel keeps it). */
  comm: string;
  /** R, S, D, Z, T… */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /**
   * CPU time in clock ticks: the process's own (utime + stime) and that of the children it has
   * reaped (cutime + cstime), so a child that ended inside the tree is not lost from the sum.
   */
  cpuTicks: number;
  /** Resident set size in pages. */
  rssPages: number;
}

/** Every process at one moment. */
export interface ProcSnapshot {
  /** Wall-clock ms when it was read. */
  atMs: number;
  procs: ReadonlyMap<number, ProcStat>;
  ticksPerSecond: number;
  pageBytes: number;
}

/** A tree's totals in one snapshot. */
export interface TreeUsage {
  /** Its processes, the root first. */
  pids: number[];
  cpuTicks: number;
  rssBytes: number;
}

/** Parses one /proc/<pid>/stat line; null when it is not one. */
export function parseProcStat(line: string): ProcStat | null {
  // The command name sits in parentheses and may itself hold spaces and parentheses: the fields
  // resume after the last ')'.
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const f = line.slice(close + 2).split(" ");
  const n = (i: number) => Number(f[i]);
  const stat: ProcStat = {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: f[0] ?? "?",
    ppid: n(1),
    pgrp: n(2),
    session: n(3),
    cpuTicks: n(11) + n(12) + n(13) + n(14),
    rssPages: Math.max(0, n(21)),
  };
  const numbers = [stat.pid, stat.ppid, stat.pgrp, stat.session, stat.cpuTicks, stat.rssPages];
  return numbers.every(Number.isFinite) ? stat : null;
}

/** A snapshot from stat lines (pure; what readProcSnapshot and tests build on). */
export function snapshotOf(lines: Iterable<string>, atMs: number, ticksPerSecond: number, pageSize: number): ProcSnapshot {
  const procs = new Map<number, ProcStat>();
  for (const line of lines) {
    const s = parseProcStat(line);
    if (s) procs.set(s.pid, s);
  }
  return { atMs, procs, ticksPerSecond, pageBytes: pageSize };
}

/** Children by parent, and members by session and by process group: built once per snapshot. */
interface TreeIndex {
  children: Map<number, number[]>;
  bySession: Map<number, number[]>;
  byGroup: Map<number, number[]>;
}

const indexes = new WeakMap<ProcSnapshot, TreeIndex>();

function indexOf(snap: ProcSnapshot): TreeIndex {
  let ix = indexes.get(snap);
  if (ix) return ix;
  ix = { children: new Map(), bySession: new Map(), byGroup: new Map() };
  const add = (m: Map<number, number[]>, k: number, pid: number) => {
    const list = m.get(k);
    if (list) list.push(pid);
    else m.set(k, [pid]);
  };
  for (const p of snap.procs.values()) {
    add(ix.children, p.ppid, p.pid);
    add(ix.bySession, p.session, p.pid);
    add(ix.byGroup, p.pgrp, p.pid);
  }
  indexes.set(snap, ix);
  return ix;
}

/**
 * The tree of `rootPid` in `snap`: the root, its descendants, and — when the root leads a session
 * or a process group, as a worker does — every process still in it, with their descendants. Null
 * when the root is not in the snapshot.
 */
export function treeUsage(snap: ProcSnapshot, rootPid: number): TreeUsage | null {
  const root = snap.procs.get(rootPid);
  if (!root) return null;
  const ix = indexOf(snap);
  const seen = new Set<number>();
  const queue = [rootPid];
  if (root.session === rootPid) queue.push(...(ix.bySession.get(rootPid) ?? []));
  if (root.pgrp === rootPid) queue.push(...(ix.byGroup.get(rootPid) ?? []));
  const pids: number[] = [];
  let cpuTicks = 0;
  let rssPages = 0;
  for (let i = 0; i < queue.length; i++) {
    const pid = queue[i]!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = snap.procs.get(pid);
    if (!p) continue;
    pids.push(pid);
    cpuTicks += p.cpuTicks;
    rssPages += p.rssPages;
    queue.push(...(ix.children.get(pid) ?? []));
  }
  return { pids, cpuTicks, rssBytes: rssPages * snap.pageBytes };
}

/**
 * CPU % (of one core, so a tree busy on two cores reads 200) between two readings of the same
 * tree; null when no time passed. A tree that lost processes (a child reparented out of it) can
 * hold fewer ticks than before: that reads 0, never negative.
 */
export function cpuPercent(before: { cpuTicks: number; atMs: number }, after: { cpuTicks: number; atMs: number }, ticksPerSecond: number): number | null {
  const elapsedMs = after.atMs - before.atMs;
  if (elapsedMs <= 0) return null;
  const busyMs = (Math.max(0, after.cpuTicks - before.cpuTicks) * 1000) / ticksPerSecond;
  return Math.round((busyMs / elapsedMs) * 1000) / 10;
}

/** One stat file, through a buffer reused across the pass (fewer syscalls than readFileSync). */
function readStat(file: string, buf: Buffer): string | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null; // the process ended between the listing and the read
  }
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n < buf.length ? buf.toString("latin1", 0, n) : readFileSync(file, "latin1");
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Every process now, read from `procDir`/<pid>/stat in one pass; null where there is no /proc
 * (macOS, Windows) or it cannot be listed.
 */
export function readProcSnapshot(procDir = "/proc", platform: NodeJS.Platform = process.platform): ProcSnapshot | null {
  if (platform !== "linux") return null;
  let names: string[];
  try {
    names = readdirSync(procDir);
  } catch {
    return null;
  }
  const atMs = Date.now();
  const buf = Buffer.allocUnsafe(1024);
  const lines: string[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue; // not a pid
    const line = readStat(join(procDir, name, "stat"), buf);
    if (line !== null) lines.push(line);
  }
  return snapshotOf(lines, atMs, clockTicksPerSecond(), pageBytes());
}
