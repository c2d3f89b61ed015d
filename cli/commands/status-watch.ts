// `cpwd status --watch`: `cpwd status` drawn again and again, as pm2's `monit` — each frame is
// exactly what `cpwd status` prints (rendered into a buffer), CPU and memory per worker included.
// On a terminal it redraws in place, cut to the screen's height, in colour unless NO_COLOR; into
// a pipe it appends each frame after a blank line, without colour or cursor codes; with --json
// each frame is one line of JSON. It redraws on each event the daemon records (an
// `events.subscribe` subscription) and every second (CPU figures move without events), at most
// 4 times a second however many events come. It ends on Ctrl-C (SIGINT) or SIGTERM, and when its
// reader goes away (EPIPE ends the CLI: main.ts).
import { Writable } from "node:stream";
import { connect, type RpcClient } from "../../src/rpc/client.js";
import { writeLine, type CliContext } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { wantsColour } from "../format/colour.js";

export interface WatchOptions {
  /** Writes one frame to the context it is given: `cpwd status` itself. */
  render: (frame: CliContext) => Promise<number>;
  /** Frames as JSON lines, never redrawn in place. */
  json: boolean;
  /** A redraw at least this often. @default 1000 */
  refreshMs?: number;
  /** Frames at most this often, however many redraws are asked for. @default 250 */
  minGapMs?: number;
}

const CSI = "\x1b[";

/**
 * A stream that keeps what is written, as wide as the terminal `like` is (if it is one), and a
 * terminal itself only when `colour`: what the renderer reads to choose its width and colours.
 */
function frameStream(like: CliContext["stdout"], colour: boolean): Writable & { text: string } {
  const out = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  out.text = "";
  out.isTTY = colour;
  const columns = (like as { columns?: number }).columns;
  if (typeof columns === "number") out.columns = columns;
  return out;
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/**
 * Calls `onChange` on each batch of events the daemon records (one subscription, only new events)
 * and when the daemon goes away; while none answers, tries again every `retryMs`. Returns a stopper.
 * Events are not kept: a missed one costs nothing, as the next redraw reads the state afresh.
 */
function onDaemonChange(socketPath: string, onChange: () => void, retryMs: number): () => void {
  let client: RpcClient | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const retry = () => {
    if (!stopped && !timer) timer = setTimeout(() => void open(), retryMs);
  };
  const open = async () => {
    timer = null;
    let c: RpcClient | null = null;
    try {
      c = await connect(socketPath, { connectTimeoutMs: 1_000 });
      if (stopped) return c.close();
      client = c;
      c.onNotification("events.batch", onChange);
      c.onClose(() => {
        if (client === c) client = null;
        onChange();
        retry();
      });
      await c.call("events.subscribe");
    } catch {
      c?.close();
      retry();
    }
  };
  void open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    client?.close();
  };
}

/** Where and how frames are shown. */
interface Screen {
  stdout: CliContext["stdout"] & { isTTY?: boolean; rows?: number };
  json: boolean;
  /** Redrawn in place (a terminal), else appended. */
  inPlace: boolean;
  refreshMs: number;
}

/** Renders one frame (`cpwd status` into a buffer); a failure becomes the frame's text. */
async function renderFrame(ctx: CliContext, opts: WatchOptions, screen: Screen, colour: boolean): Promise<string> {
  const out = frameStream(screen.stdout, colour);
  await opts.render({ ...ctx, stdout: out, stderr: out }).catch((err: unknown) => writeLine(out, `cpwd status: ${(err as Error).message}`));
  return out.text.replace(/\n$/, "");
}

/** Writes a frame: a JSON line, a titled block after the last, or in place of the last. */
function showFrame(screen: Screen, frame: string, atMs: number): void {
  const { stdout } = screen;
  if (screen.json) {
    stdout.write(`${frame}\n`);
    return;
  }
  const title = `cpwd status --watch · ${clock(atMs)} · on each event and every ${screen.refreshMs / 1000}s · Ctrl-C quits`;
  let lines = [title, "", ...frame.split("\n")];
  if (!screen.inPlace) {
    stdout.write(`${lines.join("\n")}\n\n`);
    return;
  }
  // Taller than the screen: cut, or the terminal scrolls and the next frame lands lower.
  const rows = stdout.rows ?? 0;
  if (rows > 2 && lines.length > rows - 1) lines = [...lines.slice(0, rows - 2), `… ${lines.length - rows + 2} more lines (a taller window shows them)`];
  stdout.write(`${CSI}H${lines.map((l) => `${l}${CSI}K`).join("\n")}\n${CSI}J`);
}

/**
 * Draws on request, at most once every `minGapMs`: requests while one waits are that one, and
 * requests during a draw make one more after it (the state may have changed while rendering).
 */
class Redrawer {
  private drawing = false;
  private again = false;
  private lastDrawMs = 0;
  private pending: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly render: () => Promise<string>,
    private readonly show: (frame: string, atMs: number) => void,
    private readonly minGapMs: number,
  ) {}

  /** A redraw now, or as soon as the last one is minGapMs old. */
  readonly request = (): void => {
    if (this.stopped || this.pending) return;
    if (this.drawing) {
      this.again = true;
      return;
    }
    const waitMs = this.lastDrawMs + this.minGapMs - Date.now();
    if (waitMs <= 0) void this.draw();
    else this.pending = setTimeout(() => ((this.pending = null), this.request()), waitMs);
  };

  /** No more frames, not even one being rendered now. */
  stop(): void {
    this.stopped = true;
    if (this.pending) clearTimeout(this.pending);
  }

  private async draw(): Promise<void> {
    this.drawing = true;
    this.lastDrawMs = Date.now();
    const frame = await this.render();
    this.drawing = false;
    if (this.stopped) return;
    this.show(frame, this.lastDrawMs);
    if (this.again) {
      this.again = false;
      this.request();
    }
  }
}

/** Runs until SIGINT/SIGTERM; 0. */
export function watchStatus(ctx: CliContext, opts: WatchOptions): Promise<number> {
  const refreshMs = opts.refreshMs ?? 1_000;
  const stdout = ctx.stdout as Screen["stdout"];
  // In place only on a terminal; colour only where `cpwd status` itself would use it.
  const inPlace = stdout.isTTY === true && !opts.json;
  const colour = inPlace && wantsColour(stdout, ctx.env);
  const screen: Screen = { stdout, json: opts.json, inPlace, refreshMs };
  const redrawer = new Redrawer(
    () => renderFrame(ctx, opts, screen, colour),
    (frame, atMs) => showFrame(screen, frame, atMs),
    opts.minGapMs ?? 250,
  );
  const request = redrawer.request;

  return new Promise<number>((resolve) => {
    let finished = false;
    const interval = setInterval(request, refreshMs);
    const stopFollowing = onDaemonChange(cliPaths(ctx).socket, request, refreshMs);
    const onResize = () => request();
    const finish = () => {
      if (finished) return;
      finished = true;
      redrawer.stop();
      clearInterval(interval);
      stopFollowing();
      process.off("SIGINT", finish);
      process.off("SIGTERM", finish);
      stdout.off("resize", onResize);
      stdout.off("close", finish);
      if (inPlace) stdout.write(`${CSI}?25h`); // the cursor back
      resolve(0);
    };
    process.once("SIGINT", finish);
    process.once("SIGTERM", finish);
    stdout.once("close", finish);
    if (inPlace) {
      stdout.on("resize", onResize);
      stdout.write(`${CSI}?25l${CSI}2J`); // no cursor flickering over the frame; a clear screen
    }
    request();
  });
}
