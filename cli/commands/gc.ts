// `cpwd gc [--dry-run]`: frees the disk of what nothing needs any more — the folders (spec, logs,
// exit status) of workers the record says were removed, and closed segments of the record past
// the retention (config `eventSegmentsKept`) with the snapshots before them — and says what it
// freed (or, with --dry-run, would free).
//
// It takes no lock and asks no daemon, and is safe beside a running one, because it only removes
// what the durable record already gives up and a daemon never opens again:
//  - nothing at all when the record has gaps (segments gone and no whole snapshot after them): a
//    worker queued in the missing stretch is not in the table, and its folder would look removed.
//  - a worker folder W<N> only when N is below the record's next worker number and W<N> is not in
//    its table: removed (`cpwd rm` deletes the folder itself; this catches one a crash or an error
//    left) or a spawn whose `worker.queued` never landed. A spawn in flight makes its folder under
//    the supervisor's lock before its event is durable, with a number at or past the record's
//    next one, so it is never taken; ids are never reused, so nothing comes back to a removed one.
//  - a segment only when it is compressed (a plain one is being compressed), is not among the
//    newest `eventSegmentsKept`, and is older than the second-newest whole snapshot: start-up
//    reads the newest whole snapshot and what follows, and falls back to the one before it if
//    the newest turns out torn, so both and everything after them stay. Temp files of a rotation
//    are the daemon's to finish and are never touched.
// A reader that has a segment open keeps reading it after it is removed (POSIX); one that lists
// the segments just before finds it gone and passes over it.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { listRecordFiles, type Segment, type SnapshotRef } from "../../src/eventlog/segments.js";
import { readSnapshot } from "../../src/eventlog/snapshot-file.js";
import { STATE_FOLD_VERSION } from "../../daemon/state-snapshot.js";
import { loadConfig } from "../../src/platform/config.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { describeRecordGaps, readRecordWorkers } from "../record-state.js";

/** What gc removes, and how much each part takes. */
interface Plan {
  workers: Array<{ id: string; dir: string; bytes: number }>;
  segments: Array<{ file: string; bytes: number }>;
  snapshots: Array<{ file: string; bytes: number }>;
}

/** Bytes under a path (a file, or a folder walked without following links). */
function sizeOf(path: string): number {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return 0;
    if (!st.isDirectory()) return st.size;
    return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
  } catch {
    return 0;
  }
}

/**
 * Folders of workers the record removed (or never recorded), below its next worker number. A record
 * with gaps cannot say: a worker queued in a stretch it no longer holds is neither listed nor past
 * the next number, though it may be running. Then the gap, in words, and nothing.
 */
async function removedWorkerDirs(eventsFile: string, workersDir: string): Promise<Plan["workers"] | { gap: string }> {
  const { state, fold } = await readRecordWorkers(eventsFile);
  const gap = describeRecordGaps(fold.gaps);
  if (gap) return { gap };
  let names: string[] = [];
  try {
    names = readdirSync(workersDir);
  } catch {
    return [];
  }
  return names
    .filter((id) => {
      const m = /^W(\d+)$/.exec(id);
      return m !== null && Number(m[1]) < state.nextNumber && !state.workers.has(id);
    })
    .map((id) => ({ id, dir: join(workersDir, id), bytes: sizeOf(join(workersDir, id)) }));
}

/** Segments past the retention that start-up cannot need, and the snapshots before what is kept. */
function oldRecordFiles(eventsFile: string, kept: number): Pick<Plan, "segments" | "snapshots"> {
  const files = listRecordFiles(eventsFile);
  // Whole means one the daemon would start from: of its fold too (after an upgrade that changed the
  // fold, older snapshots are passed over, and the segments after them are needed again).
  const whole: SnapshotRef[] = [...files.snapshots].reverse().filter((s) => readSnapshot(s.file, { seq: s.seq, fold: STATE_FOLD_VERSION }) !== null).slice(0, 2);
  // Start-up needs every segment after the older of the two newest whole snapshots (whole[1]),
  // that one being its fallback should the newest read torn. With one whole snapshot, there is no
  // fallback but the segments themselves: all of them stay.
  const neededAfter = whole.length < 2 ? 0 : whole[1]!.seq;
  const compressed = files.segments.filter((s) => s.compressed);
  const newest = new Set<Segment>(kept > 0 ? files.segments.slice(-kept) : []);
  const removable = compressed.filter((s) => !newest.has(s) && s.lastSeq <= neededAfter);
  const gone = new Set(removable);
  const firstKept = files.segments.find((s) => !gone.has(s))?.firstSeq ?? Infinity;
  const snapshots = files.snapshots.filter((s) => !whole.includes(s) && s.seq < firstKept - 1);
  const withSize = (file: string) => ({ file, bytes: sizeOf(file) });
  return { segments: removable.map((s) => withSize(s.file)), snapshots: snapshots.map((s) => withSize(s.file)) };
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { "dry-run": { kind: "bool", short: "n" } });
  if (positionals.length > 0) throw usageError(`unexpected argument ${positionals[0]}`);
  const dryRun = flags["dry-run"] === true;
  const paths = cliPaths(ctx);
  const config = loadConfig(paths.config);
  const workers = await removedWorkerDirs(paths.events, paths.workers);
  if ("gap" in workers) {
    writeLine(ctx.stderr, `cpwd gc: ${workers.gap}, so it cannot tell a removed worker's folder from a live one's; nothing removed. Restore segments/ or a snapshot under ${paths.home} (the daemon will not start without them either), then run cpwd gc again`);
    return 1;
  }
  const plan: Plan = { workers, ...oldRecordFiles(paths.events, config.eventSegmentsKept) };
  const rel = (file: string) => relative(paths.home, file);
  const parts = [
    { one: "removed worker's folder", many: "removed workers' folders", items: plan.workers.map((w) => ({ file: w.dir, bytes: w.bytes, label: `${w.id}'s folder (a removed worker, ` })) },
    { one: "segment", many: "segments", items: plan.segments.map((s) => ({ ...s, label: `${rel(s.file)} (` })) },
    { one: "snapshot", many: "snapshots", items: plan.snapshots.map((s) => ({ ...s, label: `${rel(s.file)} (` })) },
  ];
  let total = 0;
  let count = 0;
  for (const part of parts) {
    for (const item of part.items) {
      if (!dryRun) rmSync(item.file, { recursive: true, force: true });
      writeLine(ctx.stdout, `${dryRun ? "would remove" : "removed"} ${item.label}${bytes(item.bytes)})`);
      total += item.bytes;
      count++;
    }
  }
  const summary = parts.map((p) => `${p.items.length} ${p.items.length === 1 ? p.one : p.many}`).join(", ");
  const kept = config.eventSegmentsKept;
  writeLine(ctx.stdout, `${dryRun ? "would free" : "freed"} ${bytes(total)} in ${count} file${count === 1 ? "" : "s"} and folder${count === 1 ? "" : "s"}: ${summary}; keeping the newest ${kept} segment${kept === 1 ? "" : "s"} (config eventSegmentsKept)`);
  return 0;
};
