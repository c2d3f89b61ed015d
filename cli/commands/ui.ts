// `cpwd ui [--port P]`: a live web page of the workers, their runs and restarts, and the record,
// on 127.0.0.1 with a random token in the URL it prints. The page starts from the record on disk
// and is then fed by an `events.subscribe` subscription (server-sent events to the browser); it
// follows the daemon across restarts and works, frozen, while the daemon is down.
import { readEventLines } from "../../src/eventlog/read.js";
import type { EventRecord } from "../../src/protocol/events.js";
import { parseArgs, usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { cliPaths } from "../daemon-client.js";
import { EventFeed } from "../event-feed.js";
import { LiveModel } from "../ui/model.js";
import { UiServer } from "../ui/server.js";

/** While the daemon is down, how often the page's feed tries to reach it again. */
const RETRY_MS = 1_000;

export const run: Command = async (argv, ctx) => {
  const { flags, positionals } = parseArgs(argv, { port: { kind: "string", short: "p" } });
  if (positionals.length > 0) throw usageError(`unexpected argument ${positionals[0]}`);
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw usageError(`--port must be a port number, 0 to 65535 (got ${String(flags.port)})`);

  const paths = cliPaths(ctx);
  const model = new LiveModel();
  let batch: EventRecord[] = [];
  for await (const e of readEventLines(paths.events)) {
    batch.push(e);
    if (batch.length === 1_000) {
      model.apply(batch);
      batch = [];
    }
  }
  model.apply(batch);

  let server: UiServer;
  try {
    server = await UiServer.listen({ port, snapshot: () => model.snapshot() });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    writeLine(ctx.stderr, `cpwd ui: cannot listen on 127.0.0.1:${port}${code === "EADDRINUSE" ? ": the port is in use (leave --port out for any free one)" : `: ${(err as Error).message}`}`);
    return 1;
  }
  const feed = new EventFeed({
    socketPath: paths.socket,
    fromSeq: model.lastSeq + 1,
    onEvents: (events) => server.publish(model.apply(events)),
    onUp: () => server.setDaemonUp(true),
    onDown: () => server.setDaemonUp(false),
    retryMs: RETRY_MS,
  });
  const up = await feed.open();
  writeLine(ctx.stdout, server.url);
  writeLine(
    ctx.stderr,
    up
      ? "cpwd ui: open the address above (this machine only); Ctrl-C stops"
      : `cpwd ui: the daemon is not running (home ${paths.home}): the page shows the record on disk and goes live once it starts; Ctrl-C stops`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  feed.close();
  await server.close();
  return 0;
};
