// The shape of one RPC method's contract: params and result schemas and a line for the docs.
import type { z } from "zod";

/** A method's contract. */
export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  params: P;
  result: R;
  /** One line for docs/protocol.md and `--help`. */
  summary: string;
}
