// `cpwd ui` in a real headless browser (Debian's Chromium driven by playwright-core): the page
// loads, a worker spawned from the CLI appears without a reload, on the table and the timeline and
// in the event stream, its stop shows, and a request without the page's token is refused with a
// bare 403. `.ci/run` installs Chromium; without it this test fails, saying so.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { startCli, type BackgroundCli } from "../helpers/background-cli.js";
import { cpwd, waitFor, withDaemon, withHome } from "../helpers/daemon.js";

const CHROMIUM = process.env.CPWD_TEST_CHROMIUM ?? "/usr/bin/chromium";
/** What this machine's Chromium needs (docs: .library/env/machines/node.md); headless is playwright's. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Generous: the page should show a change within a second, but CI machines stall. */
const SHOWS_MS = 15_000;

async function openBrowser(profile: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CPWD_TEST_CHROMIUM`);
  }
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

test("cpwd ui answers --help with its usage", async () => {
  await withHome((home) => {
    const r = cpwd(home, ["ui", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: cpwd ui \[--port P\]/);
  });
});

test("the page shows a worker spawned from the CLI and its stop, live; without the token, 403", async () => {
  const profile = mkdtempSync(join(tmpdir(), "cpwd-chromium-"));
  let ui: BackgroundCli | undefined;
  let browser: BrowserContext | undefined;
  try {
    await withDaemon(async (d) => {
      ui = startCli(d.home, ["ui"]);
      const url = await waitFor("cpwd ui to print its address", () => /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/m.exec(ui!.stdout())?.[0], 20_000);
      const base = url.slice(0, url.indexOf("?"));
      const token = new URL(url).searchParams.get("token")!;

      // Refused without detail: no token, a wrong one, the stream without one, a foreign Host.
      for (const bad of [base, `${base}?token=${"0".repeat(32)}`, `${base}stream`, `${base}stream?token=${token.slice(1)}`]) {
        const r = await fetch(bad);
        assert.equal(r.status, 403, bad);
        assert.equal(await r.text(), "", bad);
      }
      // fetch() will not set Host: a plain request, as a page reached through DNS rebinding sends.
      const rebound = await new Promise<number>((resolve, reject) => {
        get(url, { headers: { Host: `evil.example:${new URL(url).port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject);
      });
      assert.equal(rebound, 403);

      browser = await openBrowser(profile);
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(url);
      await page.waitForSelector("#daemon.up", { timeout: SHOWS_MS });
      await page.evaluate(() => ((globalThis as Record<string, unknown>).loadedOnce = true));

      const spawned = cpwd(d.home, ["spawn", "--name", "ui-sleeper", "--", "sleep", "60"]);
      assert.equal(spawned.code, 0, spawned.stderr);
      const id = spawned.stdout.trim();
      const row = `#workers tr[data-worker="${id}"]`;
      await page.waitForSelector(`${row}[data-state="running"]`, { timeout: SHOWS_MS });
      assert.equal(await page.textContent(`${row} .name`), "ui-sleeper");
      await page.waitForSelector(`#timeline .tl-row[data-worker="${id}"] .bar[data-state="running"]`, { timeout: SHOWS_MS });
      await page.waitForSelector(`#events tr[data-type="worker.started"]`, { timeout: SHOWS_MS });

      const stopped = cpwd(d.home, ["stop", id]);
      assert.equal(stopped.code, 0, stopped.stderr);
      await page.waitForSelector(`${row}[data-state="stopped"]`, { timeout: SHOWS_MS });
      await page.waitForSelector(`#timeline .tl-row[data-worker="${id}"] .bar[data-state="stopped"]`, { timeout: SHOWS_MS });
      assert.match((await page.textContent(`${row} .ended`)) ?? "", /SIGTERM/);
      assert.equal(await page.evaluate(() => (globalThis as Record<string, unknown>).loadedOnce), true, "no reload happened");
    });
  } finally {
    await browser?.close();
    await ui?.stop();
    rmSync(profile, { recursive: true, force: true });
  }
  assert.equal(await ui!.done, 0, "cpwd ui ends cleanly on SIGTERM");
});
