// Paths of the tiny worker scripts in test/fixtures/workers/.
import { join } from "node:path";
import { REPO } from "./daemon.js";

export function fixture(name: string): string {
  return join(REPO, "test", "fixtures", "workers", name);
}

/** argv running a fixture with this node. */
export function nodeFixture(name: string, ...args: string[]): string[] {
  return [process.execPath, fixture(name), ...args];
}
