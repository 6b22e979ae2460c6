/**
 * The browser-side tests in headless Chromium (Debian's, through playwright-core): page-suite.ts and
 * worker-suite.ts are bundled by esbuild, served on loopback (with a Quiver server on the same origin
 * for the client's HTTP tests), and each of their results is reported here as a node:test subtest. Chromium missing is a failure with a clear message, never a skip.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import type { BrowserTestResult } from "./shims/node-test.js";
import { answerWithFetch, bundle, type LoopbackServer, serveFiles } from "./bundle-server.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Database, MemoryDirectory, open } from "../../src/index.js";
import { type QuiverApp, startQuiverServer } from "../../src/server/index.js";

let browser: Browser;
let server: LoopbackServer;
/** The Quiver server the page's client talks to over HTTP; POST /reset starts a fresh one. */
let quiver: { app: QuiverApp; db: Database } | undefined;
const KEY = "qk_browser_suite_admin_key_0123456789";

async function freshQuiver(): Promise<void> {
  await quiver?.db.close();
  const db = await open();
  quiver = { db, app: (await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: KEY })).app };
}

before(async () => {
  await freshQuiver();
  const toQuiver = (req: IncomingMessage, res: ServerResponse) => {
    const answer =
      req.url === "/reset"
        ? freshQuiver().then(() => res.writeHead(204).end())
        : answerWithFetch(req, res, (r) => (quiver as { app: QuiverApp }).app.fetch(r));
    answer.catch((e) => res.writeHead(500).end(String(e)));
  };
  server = await serveFiles(await bundle({ page: "page-suite.js", worker: "worker-suite.js" }), "/page.js", toQuiver);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await quiver?.db.close();
});

test("Chromium: database basics, directory conformance (memory, IndexedDB, OPFS), client and server app", async (t) => {
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
    assert.ok(
      results.some((r) => r.name.startsWith("main thread: stop words on demand")),
      "no stop-words result",
    );
  } finally {
    await page.close();
  }
});
