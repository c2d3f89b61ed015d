// `cpwd release PATH|W<N>`: releases one claimed file, or every file a worker holds.
import { resolve } from "node:path";
import { writeLine, type Command } from "../context.js";
import { withDaemon } from "../daemon-client.js";

export const run: Command = async (argv, ctx) => {
  if (argv.length !== 1) {
    writeLine(ctx.stderr, "usage: cpwd release PATH|W<N>");
    return 2;
  }
  const target = argv[0]!;
  // resolve() would read an empty PATH as the current folder.
  if (target === "") {
    writeLine(ctx.stderr, "cpwd release: PATH is empty\nusage: cpwd release PATH|W<N>");
    return 2;
  }
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
