// A daemon killed during a launch, after `worker.starting` but before the wrapper wrote run.json
// (found by the kill -9 chaos scenario): the worker never ran, so the next daemon queues it again
// and runs it, instead of recording it as lost.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AdoptResult } from "../../daemon/runner/runner.js";
import { FakeRunner, settle } from "../helpers/fakes.js";
import { interruptedLaunch, withRestartedSupervisor } from "../helpers/fake-supervisor.js";

/** A runner that finds nothing of any worker: no run.json, no exit.json. */
class NothingFound extends FakeRunner {
  override async adopt(): Promise<AdoptResult> {
    return { kind: "lost", handle: null };
  }
}

test("a worker left `starting` with no run.json is queued again and run, not recorded as lost", () =>
  withRestartedSupervisor(
    {
      homePrefix: "cpwd-sup-interrupted-",
      history: interruptedLaunch("W1"),
      makeRunner: (clock) => new NothingFound(clock),
    },
    async ({ log, runner, sup }) => {
      await settle();
      assert.deepEqual(log.types("W1"), ["worker.queued", "worker.starting", "worker.queued", "worker.starting", "worker.started"]);
      assert.equal(log.records[2]!.payload.by, "launch interrupted");
      assert.equal(sup.list()[0]!.state, "running");
      assert.equal(runner.launched.length, 1);
      runner.finish("W1", 0);
      await settle();
      assert.equal(sup.list()[0]!.state, "exited");
    },
  ));
