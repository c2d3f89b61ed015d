// An RpcServer in process on a real Unix socket, with quiet logs and a 1 MiB message limit: for
// tests of the server itself (its limits, backpressure and turns), without a daemon around it.
import { join } from "node:path";
import { RpcServer, type RpcServerOptions } from "../../src/rpc/server.js";

const quiet = { warn: () => {}, debug: () => {} };

/** Where and what to serve; any other server option overrides the test default. */
export type TestRpcServerOptions = Pick<RpcServerOptions, "rpc"> & Partial<RpcServerOptions> & {
  /** The folder the socket goes in. */
  dir: string;
  /** The socket's file name, without `.sock`. */
  name: string;
};

/** Starts the server on `<dir>/<name>.sock`. */
export async function startRpcServer({ dir, name, ...options }: TestRpcServerOptions): Promise<{ server: RpcServer; socketPath: string }> {
  const socketPath = join(dir, `${name}.sock`);
  return { server: await RpcServer.listen({ socketPath, maxMessageBytes: 1 << 20, log: quiet, ...options }), socketPath };
}

/** Runs `body` against a started server, and always closes it afterwards (1 s for calls in flight). */
export async function withRpcServer<T>(options: TestRpcServerOptions, body: (server: RpcServer, socketPath: string) => Promise<T>): Promise<T> {
  const { server, socketPath } = await startRpcServer(options);
  try {
    return await body(server, socketPath);
  } finally {
    await server.close(1_000);
  }
}
