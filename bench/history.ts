// Writes a synthetic but well-formed events.jsonl of N events, shaped like a long-lived daemon's:
// workers queued, started, ended and removed (the last 20 still listed), hook calls with claims
// taken and released between them, and a daemon restart now and then.
import { closeSync, openSync, writeSync } from "node:fs";

/** How many workers the history leaves in the table (the rest are removed). */
export const LISTED_WORKERS = 20;

export function writeHistory(file: string, events: number): void {
  const fd = openSync(file, "w", 0o600);
  let seq = 0;
  let tsMs = Date.parse("2026-01-01T00:00:00.000Z");
  let buf = "";
  const line = (type: string, source: string, extra: string, payload: string): void => {
    seq++;
    tsMs += 3;
    buf += `{"v":1,"seq":${seq},"ts":"${new Date(tsMs).toISOString()}","type":"${type}","source":"${source}"${extra},"payload":${payload}}\n`;
    if (buf.length > 8 * 1024 * 1024) {
      writeSync(fd, buf);
      buf = "";
    }
  };
  const daemonStarted = (): void => line("daemon.started", "daemon", "", `{"pid":4242,"version":"0.1.0","recoveredSeq":${seq},"socket":"/run/cpwd/cpwd.sock"}`);
  try {
    daemonStarted();
    // One unit: a worker's five lifecycle events and a session's five hook events around it.
    const units = Math.floor((events - 1) / 10);
    for (let k = 1; k <= units; k++) {
      const w = `,"worker":"W${k}"`;
      const session = `,"session":"s-${k % 97}"`;
      const file = `/repo/src/module-${k % 500}.ts`;
      const start = tsMs;
      line("worker.queued", "daemon", w, `{"spec":{"argv":["npm","run","task-${k}"],"name":"job-${k}","cwd":"/repo","timeoutMs":null,"restart":{"mode":"never","maxRestarts":5,"windowMs":600000,"backoffBaseMs":1000,"backoffMaxMs":60000,"minUptimeMs":30000},"meta":{},"graceMs":10000},"envKeys":37}`);
      line("hook.PreToolUse", "hook", session, `{"hookEvent":"PreToolUse","cwd":"/repo","tool":"Write","filePath":"${file}","decision":"allow","durationMs":6.2}`);
      line("worker.starting", "daemon", w, `{"attempt":0}`);
      line("claim.acquired", "hook", session, `{"path":"${file}","atMs":${tsMs},"toolUseId":"toolu_${k}"}`);
      line("worker.started", "daemon", w, `{"pid":${10_000 + (k % 50_000)},"wrapperPid":${9_999 + (k % 50_000)},"pidStartTime":"445448","wrapperStartTime":"445448","startedAtMs":${tsMs}}`);
      line("hook.PostToolUse", "hook", session, `{"hookEvent":"PostToolUse","cwd":"/repo","tool":"Write","filePath":"${file}","decision":"allow","durationMs":4.1}`);
      line("worker.exited", "daemon", w, `{"state":"exited","code":0,"signal":null,"timedOut":false,"runMs":${tsMs - start},"endedAtMs":${tsMs}}`);
      line("claim.released", "hook", session, `{"path":"${file}","reason":"session ended"}`);
      line("hook.Stop", "hook", session, `{"hookEvent":"Stop","cwd":"/repo","decision":"allow","durationMs":3.3}`);
      if (k <= units - LISTED_WORKERS) line("worker.removed", "daemon", w, "{}");
      else line("ext.note", "rpc", "", `{"k":${k}}`);
      if (k % 20_000 === 0) daemonStarted();
    }
    while (seq < events) line("ext.note", "rpc", "", `{"fill":${seq}}`);
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}
