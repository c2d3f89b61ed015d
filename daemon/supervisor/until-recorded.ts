// Offering a commit again while the event log refuses it: a full disk must hold a change back, not
// lose it. The supervisor's launches use it; exits and adoptions re-arm their own retries.
import { ErrorCode, isCpwdError } from "../../src/protocol/errors.js";
import type { Clock } from "../context.js";

/** How soon a start or an end the event log refused (a full disk) is offered again. */
export const RETRY_MS = 1_000;

/** Runs `commit` again every RETRY_MS while the event log refuses it (an IO error); other errors pass. */
export async function untilRecorded(clock: Clock, commit: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      return await commit();
    } catch (err) {
      if (!isCpwdError(err, ErrorCode.Io)) throw err;
    }
    await new Promise<void>((resolve) => clock.setTimeout(resolve, RETRY_MS));
  }
}
