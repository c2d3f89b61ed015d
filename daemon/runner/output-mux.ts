// The output mux: a small Perl program the wrapper starts beside each worker (when Perl is there),
// so that `cpwd logs` can show stdout and stderr in the order they were written, each line with its
// time. The worker writes into two FIFOs; the mux reads both in one select loop and writes each
// chunk, as it comes, to stdout.log or stderr.log (unchanged bytes, O_APPEND, as before) and, as
// time-stamped records, to output.log (format: src/records/output-log.ts).
//
// Why Perl: the reader has to outlive the daemon like the wrapper, and a Node process would cost
// ~40 MiB a worker; perl with Time::HiRes is ~5 MiB and ships with Debian/Ubuntu (perl-base is
// essential), macOS and most distributions. Without it the wrapper writes the two files directly, as
// before, and there is no output.log.
//
// The order is the order the mux reads: exact whenever the worker's writes to the two streams are
// further apart than the mux's wake-up (microseconds); two writes made back to back to different
// streams, both waiting when the mux wakes, cannot be ordered by anyone (two pipes carry no common
// clock), and come stdout first.
//
// Ending: once the worker (and its group) is gone, the wrapper writes a byte into a third FIFO, the
// control one; the mux then takes what is already in the pipes (for a second at most) and exits. So
// a daemonised grandchild holding a pipe open, even one writing without a pause, cannot keep the
// worker from being recorded as ended, and no signal can fall
// between a check and a wait (a byte waits in its FIFO). Every open is read-write, which never
// blocks on a FIFO: neither side waits for the other, whichever starts or dies first. The wrapper
// opens all three so too before it starts the mux and the worker, and holds them until the mux is
// done: the worker's own (write-only) opens never wait for the mux to start, what it writes before
// then waits in the pipes, and a mux that dies or never starts holds up neither the worker's start
// nor the record of its end (wrapper-script.ts says what the worker sees then). A wrapper
// killed outright cannot send the byte: the mux sees its parent change (within PARENT_CHECK_MS)
// and ends on its own, and the daemon also kills its process group with the rest of a lost worker. A write error (a full disk) drops that chunk: the worker is never
// blocked by its logs.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { installScript } from "./wrapper-script.js";

/** How long the mux goes on taking what is in the pipes once the worker is gone. */
const DRAIN_LIMIT_MS = 1_000;
/** How often an idle mux looks whether its wrapper is still its parent. */
const PARENT_CHECK_MS = 5_000;

/** Arguments: STDOUT_PIPE STDERR_PIPE CTL_PIPE STDOUT_LOG STDERR_LOG OUTPUT_LOG WRAPPER_PID */
export const OUTPUT_MUX_SCRIPT = `# cpwd output mux (generated; see daemon/runner/output-mux.ts)
use strict;
use warnings;
use Fcntl qw(O_RDWR);
use Time::HiRes ();
my ($out_pipe, $err_pipe, $ctl_pipe, $out_log, $err_log, $all_log, $wrapper) = @ARGV;
$SIG{TERM} = $SIG{INT} = $SIG{HUP} = $SIG{PIPE} = "IGNORE";
# Read-write opens of a FIFO never wait for the other side (Linux, macOS), and holding a write end
# means no end of file: the end comes from the wrapper, as a byte on the control FIFO.
my (@in, @log, $all, $ctl);
sysopen($in[0], $out_pipe, O_RDWR) or die "cpwd mux: $out_pipe: $!\\n";
sysopen($in[1], $err_pipe, O_RDWR) or die "cpwd mux: $err_pipe: $!\\n";
sysopen($ctl, $ctl_pipe, O_RDWR) or die "cpwd mux: $ctl_pipe: $!\\n";
# A log that cannot be opened (a full disk) is said and done without: the mux must live on, as a
# worker whose pipe has no reader would die of SIGPIPE.
for ([\\$log[0], $out_log], [\\$log[1], $err_log], [\\$all, $all_log]) {
  open(\${$_->[0]}, ">>", $_->[1]) or print STDERR "cpwd mux: $_->[1]: $!\\n";
}
my @tag = ("o", "e");

# One read of stream $i: its bytes to its own log, and as records (one a line) to output.log.
sub take {
  my ($i) = @_;
  my $got = sysread($in[$i], my $buf, 65536);
  return if !$got;
  my $t = int(Time::HiRes::time() * 1000);
  syswrite($log[$i], $buf) if $log[$i];
  my $cut = rindex($buf, "\\n") + 1;
  my $rec = "";
  if ($cut > 0) {
    $rec = substr($buf, 0, $cut);
    $rec =~ s/^/$t $tag[$i] /mg;
  }
  $rec .= "$t $tag[$i]+ " . substr($buf, $cut) . "\\n" if $cut < length($buf);
  syswrite($all, $rec) if $all;
}

# Waits (up to $wait seconds; undef: for ever) and reads what is ready. Returns whether a stream
# had anything, and whether the wrapper has said the worker is gone.
sub pump {
  my ($wait) = @_;
  my $rin = "";
  vec($rin, fileno($_), 1) = 1 for $in[0], $in[1], $ctl;
  my $n = select(my $rout = $rin, undef, undef, $wait);
  return (0, 0) if $n <= 0;
  my $took = 0;
  for my $i (0, 1) {
    next unless vec($rout, fileno($in[$i]), 1);
    take($i);
    $took = 1;
  }
  return ($took, vec($rout, fileno($ctl), 1));
}

# The wrapper killed outright (SIGKILL, the OOM killer) can never say the worker is gone: a mux
# whose parent is no longer the wrapper (reparented) takes what is there and ends too, instead of
# idling for ever. It looks every PARENT_CHECK_S seconds while nothing comes. The wrapper's pid is
# given, not read at start: a wrapper killed before the mux started left it reparented from the
# first, and a parent read then never changed (one idled an hour in a test run).
my $parent = $wrapper // getppid();
while (1) {
  my ($any, $gone) = pump(${PARENT_CHECK_MS / 1000});
  last if $gone || getppid() != $parent;
}
# The worker is gone: all it wrote is in the pipes. Take it, then end — within a second: a
# grandchild that left the group (setsid) and writes on for ever would otherwise keep this loop, and
# so the wrapper's wait and the worker's exit.json, going for ever.
my $until = Time::HiRes::time() + ${DRAIN_LIMIT_MS / 1000};
while ((pump(0))[0] && Time::HiRes::time() < $until) {}
`;

/**
 * The first perl on `pathEnv` (the daemon's PATH) that has Time::HiRes; null if none. A perl that
 * lacks it (or does not answer within `timeoutMs`) is passed over for the next. It runs in the
 * daemon's start, so each try is short: a perl loads Time::HiRes in a few milliseconds.
 */
export function findPerl(pathEnv = process.env.PATH ?? "", timeoutMs = 1_000): string | null {
  const dirs = [...pathEnv.split(delimiter).filter(Boolean), "/usr/bin", "/bin", "/usr/local/bin"];
  for (const dir of dirs) {
    const perl = join(dir, "perl");
    if (!existsSync(perl)) continue;
    const r = spawnSync(perl, ["-MTime::HiRes", "-e", "1"], { stdio: "ignore", timeout: timeoutMs, env: {} });
    if (r.status === 0) return perl;
  }
  return null;
}

const MUX_PREFIX = "output-mux";

/** Writes the mux once per content into `<home>/bin/` and returns its path. */
export function installOutputMux(home: string): string {
  return installScript(home, MUX_PREFIX, ".pl", OUTPUT_MUX_SCRIPT);
}

/** Whether a daemon of this home has installed a mux (it does so when it finds perl). */
export function outputMuxInstalled(home: string): boolean {
  try {
    return readdirSync(join(home, "bin")).some((f) => f.startsWith(`${MUX_PREFIX}-`));
  } catch {
    return false;
  }
}
