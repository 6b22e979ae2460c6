/**
 * A database written in Chromium is there, intact, after the page reloads and after the browser is
 * killed (SIGKILL) in the middle of writing: in IndexedDB (main thread) and in OPFS (a Worker). Every
 * batch acknowledged before the kill must be read back whole, and the database must open cleanly.
 * The writer lock holds across tabs, and a closed tab leaves none behind.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { killChromium, launchPersistentChromium } from "../support/chromium.js";
import { bundle, type LoopbackServer, serveFiles } from "./bundle-server.js";
import type { CheckReport } from "./persist-suite.js";

let server: LoopbackServer;
before(async () => {
  server = await serveFiles(await bundle({ persist: "persist-suite.js" }), "/persist.js");
});
after(async () => {
  await server?.close();
});

async function ready(context: BrowserContext): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(server.url);
  await page.waitForFunction(() => "quiverReady" in globalThis, undefined, { timeout: 20_000 });
  return page;
}

const write = (page: Page, name: string, total: number, worker: boolean) =>
  page.evaluate(
    ([n, t, w]) => (globalThis as unknown as { quiverWrite(...a: unknown[]): Promise<number> }).quiverWrite(n, t, w),
    [name, total, worker] as const,
  );
const check = (page: Page, name: string, expected: number, worker: boolean) =>
  page.evaluate(
    ([n, e, w]) =>
      (globalThis as unknown as { quiverCheck(...a: unknown[]): Promise<CheckReport> }).quiverCheck(n, e, w),
    [name, expected, worker] as const,
  );

for (const [storage, worker] of [
  ["IndexedDB (main thread)", false],
  ["OPFS (Worker)", true],
] as const) {
  describe(`Chromium persistence: ${storage}`, () => {
    let profile: string;
    let context: BrowserContext | undefined;
    before(async () => {
      profile = await mkdtemp(join(tmpdir(), "quiver-chromium-profile-"));
    });
    after(async () => {
      await context?.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    });

    it("a database written in a page is there, intact, after the page reloads", async () => {
      context = await launchPersistentChromium(profile);
      const page = await ready(context);
      assert.equal(await write(page, "reload", 300, worker), 300);
      await page.reload();
      await page.waitForFunction(() => "quiverReady" in globalThis);
      assert.deepEqual(await check(page, "reload", 300, worker), { count: 300, damaged: [], nearest: "r7" });
      await context.close();
      context = undefined;
    });

    it("every acknowledged batch survives the browser killed mid-write, and the database opens cleanly", async (t) => {
      context = await launchPersistentChromium(profile);
      const page = await ready(context);
      // Far more than it will write: the kill comes in the middle.
      void write(page, "killed", 1_000_000, worker).catch(() => undefined);
      let acked = 0;
      const deadline = Date.now() + 30_000;
      while (acked < 400 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        acked = await page.evaluate(() => (globalThis as unknown as { acked: number }).acked);
      }
      assert.ok(acked >= 400, `only ${acked} records acknowledged in 30 s`);
      const pid = killChromium(profile);
      await context.close().catch(() => undefined); // the process is gone; this only detaches
      context = await launchPersistentChromium(profile);
      const after = await check(await ready(context), "killed", acked, worker);
      assert.deepEqual(after.damaged, [], "acknowledged records lost or damaged");
      assert.ok(after.count >= acked, `${after.count} records after the kill, ${acked} were acknowledged`);
      assert.equal(after.count % 10, 0, "a batch is all or nothing");
      assert.equal(after.nearest, "r7");
      t.diagnostic(`browser ${pid} killed after ${acked} acknowledged records; ${after.count} read back`);
    });

    it("a second tab gets LOCKED while one has the database open, and can open it once that tab is closed", async () => {
      context ??= await launchPersistentChromium(profile);
      const first = await ready(context);
      const second = await context.newPage();
      await second.goto(server.url);
      await second.waitForFunction(() => "quiverReady" in globalThis);
      const call = (page: Page, fn: "quiverHold" | "quiverTryOpen") =>
        page.evaluate(
          ([f, n, w]) => (globalThis as unknown as Record<string, (...a: unknown[]) => Promise<string>>)[f](n, w),
          [fn, "locked", worker] as const,
        );
      assert.equal(await call(first, "quiverHold"), "held");
      assert.equal(await call(second, "quiverTryOpen"), "LOCKED");
      await first.close(); // no db.close(): the tab goes away holding the lock
      // The browser releases a gone tab's locks as it tears the tab down, a moment after close()
      // returns: the lock must be free within seconds, never stale.
      let outcome = await call(second, "quiverTryOpen");
      for (const deadline = Date.now() + 10_000; outcome === "LOCKED" && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        outcome = await call(second, "quiverTryOpen");
      }
      assert.equal(outcome, "opened");
    });
  });
}
