// The stock of worker folders made ahead of spawns (daemon/runner/folder-stock.ts): what a folder
// holds and its modes, the background refill, a relaunch's FIFOs, what a new stock removes, and a
// daemon whose spawns take folders from it.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FolderStock, startTimeTag } from "../../daemon/runner/folder-stock.js";
import { findPerl } from "../../daemon/runner/output-mux.js";
import { ProcessRunner } from "../../daemon/runner/process-runner.js";
import { waitFor, withDaemon } from "../helpers/daemon.js";

const perl = findPerl();
let home: string;
const stocks: FolderStock[] = [];
const runners: ProcessRunner[] = [];

before(() => {
  home = mkdtempSync(join(tmpdir(), "cpwd-stock-"));
});
after(() => {
  for (const s of stocks) s.close();
  for (const r of runners) r.close();
  rmSync(home, { recursive: true, force: true });
});

function stockIn(name: string, fifos: boolean, batch: number, later?: (job: () => void) => void): { dir: string; stock: FolderStock } {
  const dir = join(home, name);
  const stock = new FolderStock(dir, fifos, batch, later);
  stocks.push(stock);
  return { dir, stock };
}

const mode = (path: string): number => statSync(path).mode & 0o777;
/** How many folders in `stock` are whole (a shell run makes launch.sh last). */
const whole = (stock: string): number => readdirSync(stock).filter((name) => existsSync(join(stock, name, "launch.sh"))).length;

describe("the stock of worker folders made ahead", () => {
  test("a spawn takes a fresh folder: logs folder, both logs, wrapper.log and the mux's FIFOs, all private; the stock refills in the background; a closed stock leaves its folders to the next, which removes them", async () => {
    const { dir, stock } = stockIn("stock-a", true, 4);
    assert.equal(stock.take(join(home, "workers-a", "W0")), false, "none is ready before the first batch is made");
    await waitFor("the first batch", () => stock.size === 4);
    assert.equal(readdirSync(dir).length, 4);
    const worker = join(home, "workers-a", "W1");
    assert.equal(stock.take(worker), true, "its workers/ folder is made on the way");
    assert.equal(mode(worker), 0o700);
    assert.equal(mode(join(worker, "logs")), 0o700);
    for (const file of ["logs/stdout.log", "logs/stderr.log", "wrapper.log", "run.json", "launch.sh"]) {
      assert.ok(statSync(join(worker, file)).isFile(), file);
      assert.equal(statSync(join(worker, file)).size, 0, file);
      assert.equal(mode(join(worker, file)), 0o600, file);
    }
    for (const name of ["stdout.pipe", "stderr.pipe", "mux.pipe"]) {
      assert.ok(statSync(join(worker, name)).isFIFO(), name);
      assert.equal(mode(join(worker, name)), 0o600, name);
    }
    assert.deepEqual(readdirSync(worker).sort(), ["launch.sh", "logs", "mux.pipe", "run.json", "stderr.pipe", "stdout.pipe", "wrapper.log"]);
    assert.equal(readdirSync(dir).length, 3, "moved, not copied");

    assert.equal(stock.take(worker), false, "a folder that exists is never replaced");
    assert.equal(readdirSync(dir).length, 2, "the folder whose move failed is removed, not handed out again");
    assert.ok(existsSync(join(worker, "wrapper.log")), "the existing folder is untouched");
    // Down to a quarter: the next batch comes, in the background.
    assert.equal(stock.take(join(home, "workers-a", "W2")), true);
    assert.equal(stock.size, 1);
    await waitFor("the refill", () => stock.size === 5);
    stock.close();
    const left = readdirSync(dir);
    assert.equal(left.length, 5, "nothing removed on the close's path");
    assert.equal(stock.take(join(home, "workers-a", "W3")), false, "a closed stock hands nothing out");
    const next = stockIn("stock-a", true, 1).stock;
    await waitFor("the next stock's first batch", () => next.size === 1);
    assert.deepEqual(readdirSync(dir).filter((name) => left.includes(name)), [], "the closed stock's folders are gone");
  });

  test("without the mux, a folder has no FIFOs; a relaunch takes only a folder's FIFOs, and the rest of it goes later", async () => {
    const plain = stockIn("stock-plain", false, 2).stock;
    await waitFor("the first batch", () => plain.size === 2);
    const worker = join(home, "workers-p", "W1");
    assert.equal(plain.take(worker), true);
    assert.deepEqual(readdirSync(worker).sort(), ["launch.sh", "logs", "run.json", "wrapper.log"]);
    assert.equal(plain.takeFifos(worker), false, "a stock without FIFOs has none to give");

    const jobs: Array<() => void> = [];
    const { dir, stock } = stockIn("stock-relaunch", true, 4, (job) => jobs.push(job));
    await waitFor("the first batch", () => stock.size === 4);
    const existing = join(home, "workers-r", "W1");
    mkdirSync(existing, { recursive: true });
    assert.equal(stock.takeFifos(existing), true);
    for (const name of ["stdout.pipe", "stderr.pipe", "mux.pipe"]) assert.ok(statSync(join(existing, name)).isFIFO(), name);
    assert.equal(readdirSync(dir).length, 4, "the emptied folder stays until the job runs");
    for (const job of jobs.splice(0)) job();
    assert.equal(readdirSync(dir).length, 3);
  });

  test("a new stock removes the folders of stocks whose process is gone, not those of live ones, and an earlier cpwd's FIFO sets", async () => {
    const base = join(home, "stale-home");
    const dir = join(base, "stock");
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(base, "fifos"));
    writeFileSync(join(base, "fifos", "123-456-0badf00d-1.0"), "");
    const dead = `${2 ** 22 + 1}-123-0badf00d-1`;
    const live = `${process.ppid}-${startTimeTag(process.ppid)}-00c0ffee-1`;
    const reused = `${process.ppid}-${startTimeTag(process.ppid)}0-0badf00d-7`;
    const ownOtherTag = `${process.pid}-${startTimeTag(process.pid)}-0badf00d-7`;
    const notOurs = "something-else";
    for (const name of [dead, live, reused, ownOtherTag, notOurs]) mkdirSync(join(dir, name, "logs"), { recursive: true });
    const stock = new FolderStock(dir, false, 1);
    stocks.push(stock);
    await waitFor("the first batch", () => stock.size === 1);
    const left = new Set(readdirSync(dir));
    assert.equal(left.has(live), true, "a live process with the start time its tag records");
    for (const name of [dead, reused, ownOtherTag, notOurs]) assert.equal(left.has(name), false, `${name} is removed`);
    assert.equal(left.size, 2, "the live one and the new stock's own");
    assert.equal(existsSync(join(base, "fifos")), false);

    // A home from before the stock: fifos/ and no stock/ yet.
    const older = join(home, "older-home");
    mkdirSync(join(older, "fifos"), { recursive: true });
    writeFileSync(join(older, "fifos", "123-456-0badf00d-1.0"), "");
    const first = new FolderStock(join(older, "stock"), false, 1);
    stocks.push(first);
    await waitFor("its first batch", () => first.size === 1);
    assert.equal(existsSync(join(older, "fifos")), false, "an earlier cpwd's FIFO sets go with the first batch");
  });

  test("a runner's stock makes 64 folders with FIFOs when it has the mux; a second runner on the home keeps the first's", { skip: perl === null }, async () => {
    const runnerHome = join(home, "runner-home");
    const first = new ProcessRunner({ home: runnerHome, livenessCheckMs: 500, perl });
    runners.push(first);
    await waitFor("the first batch", () => whole(join(runnerHome, "stock")) === 64);
    const firstFolders = readdirSync(join(runnerHome, "stock"));
    assert.equal(firstFolders.length, 64);
    assert.ok(statSync(join(runnerHome, "stock", firstFolders[0]!, "mux.pipe")).isFIFO());
    const second = new ProcessRunner({ home: runnerHome, livenessCheckMs: 500, perl });
    runners.push(second);
    await waitFor("the second's first batch", () => whole(join(runnerHome, "stock")) === 128);
    const left = new Set(readdirSync(join(runnerHome, "stock")));
    assert.ok(firstFolders.every((name) => left.has(name)), "the folders of a stock still open in this process stay");
    assert.equal(left.size, 128);
  });

  test("the daemon's spawns take their folders from the stock, and the workers run and log as ever", async () => {
    await withDaemon(async (d, c) => {
      const stock = join(d.home, "stock");
      await waitFor("the stock's first batch", () => whole(stock) === 64);
      // The daemon hears of the batch a moment after the files are there: until then a spawn makes its own folder.
      let id = "";
      await waitFor("a spawn that takes its folder from the stock", async () => {
        const before = readdirSync(stock).length;
        const { worker } = await c.call("worker.spawn", { argv: ["sh", "-c", "echo out; echo err >&2"], cwd: "/", env: { PATH: process.env.PATH ?? "" } } as never);
        id = String(worker.id);
        return readdirSync(stock).length === before - 1;
      });
      await waitFor("the worker's end", async () => {
        const { workers } = (await c.call("worker.get", { target: id } as never)) as { workers: Array<{ state: string }> };
        return workers[0]?.state === "exited";
      });
      assert.equal(mode(join(d.paths.workers, id)), 0o700);
      assert.equal(mode(join(d.paths.workers, id, "logs", "stdout.log")), 0o600);
      assert.equal(mode(join(d.paths.workers, id, "spec.json")), 0o600);
      const logs = join(d.paths.workers, id, "logs");
      await waitFor("both lines in the logs", () => statSync(join(logs, "stdout.log")).size === 4 && statSync(join(logs, "stderr.log")).size === 4);
    });
  });
});
