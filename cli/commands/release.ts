// `cpwd release PATH|W<N>`: releases one claimed file, or every file a worker holds.
import { resolve } from "node:path";
import { usageError } from "../args.js";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length !== 1) throw usageError(argv.length === 0 ? "name a claimed file or a worker (W3)" : `takes one PATH or worker (got ${argv.join(" ")})`);
  const target = argv[0]!;
  // resolve() would read an empty PATH as the current folder.
  if (target === "") throw usageError("PATH is empty");
  const params = /^W\d+$/.test(target) ? { worker: target } : { path: resolve(ctx.cwd, target) };
  return withDaemon(ctx, async (client) => {
    try {
      const { released } = await client.call("claims.release", params);
      for (const p of released) writeLine(ctx.stdout, `released ${p}`);
      return 0;
    } catch (err) {
      writeLine(ctx.stderr, `cpwd release: ${(err as Error).message}`);
      return 1;
    }
  });
};
