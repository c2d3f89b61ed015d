// The worker wrapper: a POSIX shell script that is the parent of one worker. It outlives the
// daemon (the daemon starts it in a session of its own), runs the worker in a process group of its
// own (so a signal to the group reaches every grandchild but not the wrapper), enforces the
// worker's deadline even while no daemon runs, and records how the worker ended, atomically, in
// exit.json. A shell, not a second Node process: it costs ~1–2 MiB of RSS instead of ~40 (plus
// one `sleep`, or a timer shell and its `sleep`, while a deadline runs).
//
// Argument order: DIR TIMEOUT_MS GRACE_MS TIMER PERL MUX LAUNCH SETSID -- ARGV…  (TIMEOUT_MS 0 means
// no deadline; PERL "-" means no output mux: the worker writes its two logs itself, as before;
// LAUNCH is the launch's number among the worker's, copied into run.json; SETSID is the setsid(1)
// the daemon found once, or "-" for none, where perl makes the group: macOS)
// Or `--warm` alone: a wrapper started ahead (warm-wrappers.ts), idle until the daemon hands it a
// launch on stdin: the same parameters as shell variables, plus CWD, `cpwd_env` (exports the
// worker's environment, run in the worker's child only) and ARGV prefixed with SETSID.
// TIMER is how the deadline is kept (the runner chooses it with the interpreter):
//   chld  — one `sleep` child and a CHLD trap. Only under dash: a CHLD trap cuts `wait` short, and
//           bash in POSIX mode then keeps 145 as the worker's status (re-waiting does not help).
//   proc  — a timer shell in a session of its own, which `wait` never hears of; any POSIX sh.
// Files in DIR: run.json {pid, wrapperPid, timerPid, launch}; exit.json {code, signal, timedOut,
// endedAt}; timed-out (the deadline passed); all 0600 (umask 077 once the worker is started: only the worker
// runs with the user's umask). run.json is written in one write(2) before the pid is told to the
// daemon (no temporary file and `mv`: an exec less on every start); its reader takes a file still
// empty or half-written for an absent one. logs/stdout.log, logs/stderr.log opened O_APPEND (so
// copytruncate rotation is safe); the runner creates them 0600 beforehand.
//
// With PERL and MUX, the worker writes into two FIFOs instead and the output mux (output-mux.ts;
// started once the worker's pid is told, in the wrapper's group) writes both logs and logs/output.log; once the worker is
// gone the wrapper tells it so (a byte on a third FIFO) and waits for it, before exit.json, so the
// logs hold all of a run's output when its end is recorded. The runner moves the three FIFOs in
// from a stock it makes ahead in batches (process-runner.ts); the wrapper makes them itself
// (mkfifo, an exec) only when they are not there.
// Nothing on the way to the worker's exec waits for the mux: the wrapper opens all three FIFOs
// read-write itself (fds 7, 8, 9; such an open never blocks, and makes the wrapper a reader), before
// it starts the mux and the worker, and keeps them until the mux is done. So the worker's own
// write-only opens of the FIFOs find a reader at once, whether the mux (a Perl start, ~5–10 ms)
// has opened them yet or not, and what the worker writes before then waits in the pipes for it.
// The mux ends on the control byte, never on an end of file, so the wrapper holding the FIFOs does
// not keep it going. A mux that dies (or never starts: a missing perl) leaves the worker writing
// into pipes only the wrapper holds: a write never fails and raises no SIGPIPE, but once 64 KiB
// (the pipe's buffer) wait unread in one, the worker's next write to that stream blocks until it is
// stopped or its deadline ends it; its start and its end are recorded as usual (the control byte
// waits in fd 9, and \`wait\` for a dead mux returns at once), and that run's unread output is lost.
// A process that outlives the run holding the worker's stream (a detached grandchild) gets SIGPIPE
// once the mux and the wrapper are gone, as it would writing into a closed pipe.
// Their names come from WORKER_FILES
// (src/records/worker-files.ts), interpolated into the text; their readers live there too.
//
// What a shell cannot tell apart: a worker that exits with code 128+N and one killed by signal N
// both give `wait` the status 128+N. The wrapper reports a signal when the status is 129…159 and
// `kill -l` names a signal; an exit code in that range is therefore shown as that signal. Either
// way the state is `failed` unless cpwd itself sent the signal (stop or timeout).
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORKER_FILES } from "../../src/records/worker-files.js";

export const WRAPPER_SCRIPT = `#!/bin/sh
# cpwd worker wrapper (generated; see daemon/runner/wrapper-script.ts)
if [ "$1" = --warm ]; then
  # Started ahead (warm-wrappers.ts), idle in / until the daemon writes one line on stdin: the path
  # of the launch's parameters (a shell text it wrote whole before the line: the variables below,
  # cpwd_env, and "$@" = SETSID ARGV…). The worker's child exports its environment (cpwd_env) and
  # nothing of ours; the values never appear in any process's arguments. An end of stdin instead
  # (the daemon died, or closes) ends the wrapper, having started nothing.
  IFS= read -r params || exit 0
  ready=; . "$params"; [ "$ready" = 1 ] || exit 1; warm=1
  exec </dev/null 2>>"$dir/${WORKER_FILES.wrapperLog}"
  cd -P -- "$cwd" || exit 1
else
  dir=$1; timeout_ms=$2; grace_ms=$3; timer_kind=$4; perl=$5; mux=$6; launch=$7; setsid=$8; shift 9; warm=
fi
out="$dir/${WORKER_FILES.logs}/${WORKER_FILES.stdout}"; err="$dir/${WORKER_FILES.logs}/${WORKER_FILES.stderr}"; reader=
# The output mux, if any: the worker's streams go into FIFOs it reads. It is started once the
# worker's pid is told (below): its start (perl: 5–10 ms of CPU) must not slow that on a busy machine.
po="$dir/${WORKER_FILES.stdoutPipe}"; pe="$dir/${WORKER_FILES.stderrPipe}"; pc="$dir/${WORKER_FILES.muxControl}"
# The FIFOs come from the runner's stock (mkfifo only without it). The wrapper holds all three open
# read-write from here on (7, 8, 9), an open that never waits: the worker's opens below find a
# reader at once, what it writes waits in the pipes until the mux reads it, and a byte written into
# the control FIFO waits there even if the mux has not opened it yet (a FIFO nobody holds drops what
# it had). (The runner removes a run's FIFOs before the next launch.)
if [ "$perl" != - ] && { { [ -p "$po" ] && [ -p "$pe" ] && [ -p "$pc" ]; } || mkfifo -m 600 "$po" "$pe" "$pc" 2>/dev/null; } && exec 7<>"$po" 8<>"$pe" 9<>"$pc"; then
  reader=pending; lo=$out; le=$err; out=$po; err=$pe
fi
# A process group (and session) of its own: setsid(1) on Linux, perl where it is missing (macOS).
# The worker's opens are write-only (a process that outlives the run gets SIGPIPE, not a pipe that
# fills), and never wait: the wrapper holds a read end.
if [ -n "$warm" ]; then
  ( cpwd_env; exec "$@" ) </dev/null >>"$out" 2>>"$err" 7>&- 8>&- 9<&- &
elif [ "$setsid" != - ]; then
  "$setsid" "$@" </dev/null >>"$out" 2>>"$err" 7>&- 8>&- 9<&- &
else
  perl -e 'setpgrp(0,0); exec @ARGV or die "cpwd: cannot run $ARGV[0]: $!\\n"' -- "$@" </dev/null >>"$out" 2>>"$err" 7>&- 8>&- 9<&- &
fi
child=$!
# Everything the wrapper (and its timer) writes from here on is cpwd's own: run.json, exit.json,
# timed-out, private to the user. The worker was forked above, so it keeps the user's umask for the
# files it makes; its logs were made 0600 by the runner before the launch.
umask 077
# The deadline. TIMER chld (dash only): one \`sleep\` child of the wrapper, no timer shell. Its end
# raises SIGCHLD, and the CHLD trap does the work — mark timed-out, SIGTERM the group, sleep the
# grace, SIGKILL — whether the shell is in \`wait\` then or between commands. The trap, not the
# main loop, acts, so a timer ending just before \`wait\` is entered is never missed.
timer=; timer_group=; phase=; chld_status=-1
# Alive and not a zombie (a shell reaps only when it waits; /proc tells where there is one).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=\${st##*) }; [ "\${st%% *}" != Z ]
}
on_chld() {
  [ -n "$timer" ] && ! running "$timer" || return 0
  timer=
  if [ "$phase" = deadline ]; then
    : >"$dir/${WORKER_FILES.timedOut}"
    kill -TERM -"$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
    if [ "$grace_ms" -gt 0 ]; then
      phase=grace; sleep "$g" </dev/null >/dev/null 7>&- 8>&- 9<&- & timer=$!
      return 0
    fi
  fi
  phase=done
  kill -KILL -"$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null
}
if [ "$timeout_ms" -gt 0 ]; then
  # ms as seconds for sleep(1) (1500 → 1.500), without a subshell's fork.
  secs() { s_ms=$(($1 % 1000)); if [ "$s_ms" -lt 10 ]; then s_ms=00$s_ms; elif [ "$s_ms" -lt 100 ]; then s_ms=0$s_ms; fi; s_out=$(($1 / 1000)).$s_ms; }
  secs "$timeout_ms"; t=$s_out; secs "$grace_ms"; g=$s_out
  if [ "$timer_kind" = chld ]; then
    # Trapped before the sleep starts, so even a deadline that passes at once is seen.
    # The status of a wait cut short by the CHLD trap (SIGCHLD is 17 on Linux, 20 on the BSDs).
    for n in 17 20 18; do [ "$(kill -l $n 2>/dev/null)" = CHLD ] && { chld_status=$((128 + n)); break; }; done
    trap on_chld CHLD
    phase=deadline; sleep "$t" </dev/null >/dev/null 7>&- 8>&- 9<&- & timer=$!
  else
    # TIMER proc: a timer shell in a session (or group) of its own, so that killing its group takes
    # its sleep along. Its pid goes into run.json: the daemon kills it if the wrapper is killed.
    # (The worker is started, so "$@" is free to hold the timer's command.)
    set -- sh -c 'sleep "$1"; : >"$2/${WORKER_FILES.timedOut}"; kill -TERM -"$3" 2>/dev/null || kill -TERM "$3" 2>/dev/null; sleep "$4"; kill -KILL -"$3" 2>/dev/null' cpwd-timer "$t" "$dir" "$child" "$g"
    if [ "$setsid" != - ]; then
      "$setsid" "$@" </dev/null >/dev/null 7>&- 8>&- 9<&- &
    else
      perl -e 'setpgrp(0,0); exec @ARGV or die' -- "$@" </dev/null >/dev/null 7>&- 8>&- 9<&- &
    fi
    timer_group=$!
  fi
fi
# One write(2) (printf is a builtin): no temporary file and mv, an exec less before the pid.
printf '{"pid":%s,"wrapperPid":%s,"timerPid":%s,"launch":%s}\\n' "$child" "$$" "\${timer_group:-null}" "$launch" >"$dir/${WORKER_FILES.run}"
# Tell the daemon the pid, then let go of its pipe: a dead daemon must never SIGPIPE us. One killed
# before it read the pid has closed the pipe, so the echo is made with SIGPIPE ignored (it fails,
# and the wrapper goes on to record the worker's end); the worker, forked above, keeps the default.
trap '' PIPE
echo "$child"
exec >/dev/null
trap - PIPE
# Now the output mux, in the wrapper's group, with umask 077 (it creates output.log; set above) and
# without the worker's Perl settings, which could break it. What the worker wrote meanwhile waits
# in the pipes. (The wrapper's stderr is wrapper.log, never the daemon's pipe: it stays.)
if [ -n "$reader" ]; then
  (unset PERL5OPT PERL5LIB PERLLIB PERL5DB; exec "$perl" "$mux" "$po" "$pe" "$pc" "$lo" "$le" "$dir/${WORKER_FILES.logs}/${WORKER_FILES.output}" "$$") </dev/null >/dev/null 7>&- 8>&- 9<&- &
  reader=$!
fi
# A signal sent to the wrapper itself (daemon stop of a worker it has not adopted yet) is passed on.
trap 'kill -TERM -"$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null' TERM INT HUP
while :; do
  wait "$child"; status=$?
  # wait returns early (status > 128) when a trapped signal arrives; the worker may still run.
  kill -0 "$child" 2>/dev/null && continue
  # A wait cut short by the CHLD trap just as the worker ended: collect its real status (dash keeps
  # it for a second wait; bash does not, hence TIMER proc there).
  [ "$status" -eq "$chld_status" ] && { wait "$child"; status=$?; }
  break
done
trap - CHLD
[ -n "$timer" ] && kill -TERM "$timer" 2>/dev/null
# The timer's group, or the timer alone if it has not made its session yet (a worker that ended at once).
[ -n "$timer_group" ] && { kill -TERM -"$timer_group" 2>/dev/null || kill -TERM "$timer_group" 2>/dev/null; }
# Whatever is left of the worker's group (grandchildren that ignored SIGTERM) goes too.
kill -KILL -"$child" 2>/dev/null
# All the worker wrote is in the pipes now: told so (a byte on its control FIFO), the mux takes it
# and ends, before the end is recorded.
# The wrapper's own ends of the FIFOs go only now: the mux ends on the byte, not on an end of file.
[ -n "$reader" ] && { echo >&9; wait "$reader"; exec 7>&- 8>&- 9<&-; rm -f "$po" "$pe" "$pc"; }
timed_out=false; [ -e "$dir/${WORKER_FILES.timedOut}" ] && timed_out=true
code=$status; signal=null
if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then
  name=$(kill -l $((status - 128)) 2>/dev/null)
  if [ -n "$name" ]; then code=null; signal="\\"SIG$name\\""; fi
fi
printf '{"code":%s,"signal":%s,"timedOut":%s,"endedAt":%s}\\n' "$code" "$signal" "$timed_out" "$(date +%s)" >"$dir/${WORKER_FILES.exit}.tmp"
mv -f "$dir/${WORKER_FILES.exit}.tmp" "$dir/${WORKER_FILES.exit}"
`;

/**
 * Writes the script once per content into `<home>/bin/` and returns its path. Named by a hash of
 * its text, because sh reads a script as it runs: rewriting the file under a running wrapper could
 * make it execute garbage. Old versions stay for wrappers still running them.
 */
export function installWrapper(home: string): string {
  return installScript(home, "wrapper", ".sh", WRAPPER_SCRIPT);
}

/** Writes `text` once per content as `<home>/bin/<prefix>-<hash><ext>` (0700) and returns its path. */
export function installScript(home: string, prefix: string, ext: string, text: string): string {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
  const dir = join(home, "bin");
  const file = join(dir, `${prefix}-${hash}${ext}`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, text, { mode: 0o700 });
    chmodSync(`${file}.tmp`, 0o700);
    renameSync(`${file}.tmp`, file);
  }
  return file;
}
