// The RPC surface: every method the daemon serves, gathered from each area's contracts, and the
// types a client derives from them. The daemon validates params against these; docs/protocol.md
// lists them.
import type { z } from "zod";
import { coreMethods } from "./rpc-core.js";
import { hookMethods } from "./rpc-hooks.js";
import type { MethodSpec } from "./rpc-method-spec.js";
import { workerMethods } from "./rpc-workers.js";

/** Every method the daemon serves. Areas add their maps here. */
export const methodSpecs = {
  ...coreMethods,
  ...hookMethods,
  ...workerMethods,
} satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof methodSpecs;
export type ParamsOf<M extends MethodName> = z.input<(typeof methodSpecs)[M]["params"]>;
export type ResultOf<M extends MethodName> = z.infer<(typeof methodSpecs)[M]["result"]>;
