/**
 * The browser-side tests in headless Chromium (Debian's, through playwright-core): page-suite.ts and
 * worker-suite.ts are bundled by esbuild, served on loopback, and each of their results is reported
 * here as a node:test subtest. Chromium missing is a failure with a clear message, never a skip.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import type { BrowserTestResult } from "./shims/node-test.js";
import { bundle, type LoopbackServer, serveFiles } from "./bundle-server.js";

let browser: Browser;
let server: LoopbackServer;

before(async () => {
  server = await serveFiles(await bundle({ page: "page-suite.js", worker: "worker-suite.js" }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("Chromium: database basics and directory conformance (memory, IndexedDB, OPFS)", async (t) => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(server.url);
    await page.waitForFunction(() => "runQuiverSuite" in globalThis, undefined, { timeout: 20_000 });
    const results = await page.evaluate(() =>
      (globalThis as unknown as { runQuiverSuite(): Promise<BrowserTestResult[]> }).runQuiverSuite(),
    );
    assert.deepEqual(errors, [], "uncaught errors in the page");
    for (const r of results) {
      await t.test(r.name, () => {
        if (!r.ok) throw new Error(r.error);
      });
    }
    // Each half ran its whole suite: a bundle that registered nothing would pass vacuously.
    for (const part of [
      "main thread: Directory conformance: IndexedDB",
      "worker: Directory conformance: OPFS",
      "worker: database basics",
    ]) {
      assert.ok(results.filter((r) => r.name.startsWith(part)).length >= 5, `too few results for ${part}`);
    }
  } finally {
    await page.close();
  }
});
