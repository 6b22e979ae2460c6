/**
 * The console end to end, in headless Debian Chromium: the server on loopback with the demo's
 * 20,000 records, signed in with the admin key and with a read key. Checks what a user sees and
 * what the server did: filters and their error paths, every query mode, the map's pixels (drawn by
 * WebGL, not only the DOM) and the engine's neighbours of a clicked point, image records' thumbnails
 * in the records view and on the map's hovered point, keys created and revoked,
 * and that a read key is offered no write and is refused one if it forces it. Any error the page
 * logs (a Content-Security-Policy violation among them) fails the test. Screenshots of each view go
 * to test-output/console/ (git-ignored) for a reviewer.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import { PHOTOS_PER_CLASS, startConsoleServer, type ConsoleServer } from "./fixture.js";
import { ADMIN_KEY } from "../server/helpers.js";

const SHOTS = join(process.cwd(), "test-output", "console");
let t: ConsoleServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await startConsoleServer();
  browser = await launchChromium({ softwareWebGL: true });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

/** A fresh tab (its own sessionStorage) whose page errors and console errors are collected. */
async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // The API's refusals are expected where a test provokes them; the browser logs each failed fetch.
    if (m.type() === "error" && !/status of (400|401|403|404)/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${t.url}/console/`);
  await page.fill('input[name="apiKey"]', key);
  await page.click('button[type="submit"]');
  await page.waitForSelector("header .who");
}

/**
 * The text a user sees in an element, as rendered (cells and lines apart), which is what these tests
 * assert on; Playwright's innerText, not the DOM's textContent that the linter has in mind.
 */
function seen(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point (see above)
  return locator.innerText();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * Reads the map's WebGL canvas back through a 2-D canvas: how many pixels differ from the background
 * (#10141b), and the page coordinates of a brightly lit one in the lower right of the cloud (a point to click).
 */
async function scanMap(page: Page): Promise<{ lit: number; point: { x: number; y: number } | null }> {
  return page.evaluate(() => {
    const gl = document.querySelector<HTMLCanvasElement>('canvas[data-role="map-canvas"]')!;
    const c = document.createElement("canvas");
    c.width = gl.width;
    c.height = gl.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(gl, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const rect = gl.getBoundingClientRect();
    let lit = 0;
    let point: { x: number; y: number } | null = null;
    for (let y = 0; y < c.height; y++)
      for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4;
        const distance = Math.abs(px[i] - 0x10) + Math.abs(px[i + 1] - 0x14) + Math.abs(px[i + 2] - 0x1b);
        if (distance > 60) lit++;
        if (distance > 120 && !point && y > c.height / 3 && x > c.width / 3)
          point = { x: rect.left + (x * rect.width) / c.width, y: rect.top + (y * rect.height) / c.height };
      }
    return { lit, point };
  });
}

test("admin: sign-in keeps the key in sessionStorage only, and collections show counts and schema", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("quiver.console.apiKey")), ADMIN_KEY);
  assert.ok(!page.url().includes(ADMIN_KEY));
  const row = page.locator('tr[data-collection="sample"]');
  await row.waitFor();
  assert.match(await seen(row), /20,000/);
  assert.match(await seen(row), /vector.*64-d cosine/);
  assert.match(await seen(row), /topic keyword/);
  assert.match(await seen(page.locator('tr[data-collection="articles"]')), /body/);
  // The admin sees stats() figures and the write actions.
  assert.match(await seen(row), /in memory/);
  assert.equal(await page.locator('form.create button[type="submit"]').count(), 1);
  await shot(page, "collections");

  // Create, then drop after the confirmation.
  await page.fill('input[name="newCollection"]', "scratch");
  await page.fill('textarea[name="newSchema"]', '{"vectors": {"v": {"dim": 3, "metric": "cosine"}}}');
  await page.click('form.create button[type="submit"]');
  await page.locator('tr[data-collection="scratch"]').waitFor();
  assert.ok((await t.db.listCollections()).some((c) => c.name === "scratch"));
  await page.click('tr[data-collection="scratch"] button[data-action="drop"]');
  await page.click('tr[data-collection="scratch"] button[data-action="confirm-drop"]');
  await page.locator('tr[data-collection="scratch"]').waitFor({ state: "detached" });
  assert.ok(!(await t.db.listCollections()).some((c) => c.name === "scratch"));

  // A bad schema is refused with its path.
  await page.fill('input[name="newCollection"]', "bad");
  await page.fill('textarea[name="newSchema"]', '{"vectors": {"v": {"dim": -1, "metric": "cosine"}}}');
  await page.click('form.create button[type="submit"]');
  assert.match(await seen(page.locator(".error")), /vectors\.v\.dim/);
  assert.deepEqual(errors, []);
});

test("records: pages, a filter (and its errors with their paths), a record's detail, delete", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  await page.goto(`${t.url}/console/#/records/sample`);
  await page.locator("tr[data-id]").first().waitFor();
  assert.equal(await page.locator("tr[data-id]").count(), 50);
  assert.match(await seen(page.locator('[data-role="total"]')), /20,000 records · page 1/);
  const first = await page.locator("tr[data-id]").first().getAttribute("data-id");
  await page.click('button[data-action="next-page"]');
  await page.waitForFunction(() => document.querySelector('[data-role="total"]')?.textContent?.includes("page 2"));
  assert.notEqual(await page.locator("tr[data-id]").first().getAttribute("data-id"), first);

  const coll = await t.db.collection("sample");
  const jazz = await coll.count({ topic: "jazz", year: { $gte: 2000 } });
  await page.fill('textarea[name="filter"]', '{"topic": "jazz", "year": {"$gte": 2000}}');
  await page.click("form.filter button");
  await page.waitForFunction(
    (n) =>
      document.querySelector('[data-role="total"]')?.textContent?.startsWith(`${n.toLocaleString("en-US")} records`),
    jazz,
  );
  for (const text of await page.locator("tr[data-id]").allInnerTexts()) assert.match(text, /jazz/);
  await shot(page, "records");

  // Mixed range bounds: the API names the offending operator by its path.
  await page.fill('textarea[name="filter"]', '{"year": {"$gte": 2000, "$lt": "2010"}}');
  await page.click("form.filter button");
  const error = await seen(page.locator(".error"));
  assert.match(error, /INVALID_FILTER/);
  assert.match(error, /filter\.year\.\$lt: \$lt is a number but \$gte is a string|filter\.year\.\$lt/);

  await page.fill('textarea[name="filter"]', "");
  await page.click("form.filter button");
  await page.locator('tr[data-id="doc-00000"]').click();
  const detail = page.locator('[data-detail="doc-00000"]');
  await detail.waitFor();
  assert.match(await seen(detail), /vector: 64-d, norm/);
  assert.match(await seen(detail), /"topic"/);
  await shot(page, "record-detail");
  await page.click('button[data-action="delete"]');
  await page.click('button[data-action="confirm-delete"]');
  await detail.waitFor({ state: "detached" });
  assert.deepEqual(await coll.get(["doc-00000"]), []);
  assert.deepEqual(errors, []);
});

test("query playground: vector, more-like-this, text, hybrid, group-by; plan, explain and snippets", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  const sample = await t.db.collection("sample");
  const [probe] = await sample.get(["doc-00007"], { withVectors: true });
  await page.goto(`${t.url}/console/#/query/sample`);

  // Vector, pasted.
  await page.fill('textarea[name="vector"]', JSON.stringify(probe.vectors!.vector));
  await page.click('.playground button[type="submit"]');
  await page.locator("tr[data-hit]").first().waitFor();
  assert.equal(await page.locator("tr[data-hit]").first().getAttribute("data-hit"), "doc-00007");
  assert.equal(await page.locator("tr[data-hit]").count(), 10);
  assert.match(await seen(page.locator('[data-plan="strategy"]')), /hnsw|exact/);
  assert.match(await seen(page.locator('[data-snippet="curl"]')), /curl -X POST .*\/v1\/collections\/sample\/query/);
  assert.match(await seen(page.locator('[data-snippet="client"]')), /coll\.query\(/);
  assert.ok(!(await page.locator(".snippet").allInnerTexts()).join("").includes(ADMIN_KEY));

  // More like this record, exact, grouped by topic.
  await page.check('input[name="mode"][value="like"]');
  await page.fill('input[name="recordId"]', "doc-00011");
  await page.check('input[name="exact"]');
  await page.fill('input[name="groupBy"]', "topic");
  await page.fill('input[name="limit"]', "3");
  await page.click('.playground button[type="submit"]');
  await page.waitForFunction(() => document.querySelector("tr[data-hit]")?.getAttribute("data-hit") === "doc-00011");
  assert.match(await seen(page.locator('[data-plan="strategy"]')), /exact/);
  const groups = await page.locator("tr[data-hit]").allInnerTexts();
  assert.equal(groups.length, 3);
  const expected = await sample.query({
    vector: (await sample.get(["doc-00011"], { withVectors: true }))[0].vectors!.vector as number[],
    exact: true,
    groupBy: "topic",
    limit: 3,
  });
  assert.deepEqual(
    await page.locator("tr[data-hit]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-hit"))),
    expected.hits.map((h) => h.id),
  );
  await shot(page, "query-vector");

  // Text (BM25) and hybrid on the articles.
  await page.goto(`${t.url}/console/#/query/articles`);
  await page.check('input[name="mode"][value="text"]');
  await page.fill('input[name="text"]', "sourdough");
  await page.click('.playground button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('[data-plan="strategy"]')?.textContent === "text");
  for (const row of await page.locator("tr[data-hit]").allInnerTexts()) assert.match(row, /sourdough/);
  assert.match(await seen(page.locator('[data-plan="text"]')), /body.*sourdough/);

  // The form keeps its fields across collections (the route changes, not the page): reset them.
  await page.uncheck('input[name="exact"]');
  await page.fill('input[name="groupBy"]', "");
  await page.fill('input[name="limit"]', "10");
  await page.check('input[name="mode"][value="hybrid"]');
  await page.fill('input[name="recordId"]', "art-1");
  await page.fill('input[name="text"]', "saxophone");
  await page.fill('textarea[name="filter"]', '{"category": "jazz history"}');
  await page.click('.playground button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('[data-plan="strategy"]')?.textContent === "hybrid");
  const rows = await page.locator("tr[data-hit]").allInnerTexts();
  assert.ok(rows.length > 0);
  for (const row of rows) assert.match(row, /jazz history/);
  assert.match(rows[0], /vector #\d+ \(/);
  // Both sources ranked: the saxophone articles come from the text side, fused with the vector side.
  assert.ok(
    rows.some((r) => /saxophone/.test(r) && /text #\d+ \(/.test(r) && /vector #\d+ \(/.test(r)),
    rows.join("\n"),
  );
  assert.match(await seen(page.locator('[data-plan="fusion"]')), /\w/);
  await shot(page, "query-hybrid");
  assert.deepEqual(errors, []);
});

test("map: 20,000 points drawn by WebGL, a clicked point's neighbours from the engine, a filter, a sample", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  await page.goto(`${t.url}/console/#/map/sample`);
  await page.click('button[data-action="open-map"]');
  await page.waitForSelector('[data-role="map-status"][data-phase="pca-drawn"], [data-phase="umap-drawn"]', {
    timeout: 60_000,
  });
  // doc-00000 was deleted by the records test.
  assert.match(await seen(page.locator('[data-role="map-status"]')), /All 19,999 records/);
  const { lit, point: target } = await scanMap(page);
  assert.ok(lit > 2000, `only ${lit} pixels differ from the background`);
  // Coloured by the first payload field, topic: all 20 topics have their own colour.
  const legend = (await seen(page.locator(".legend"))).split("\n");
  assert.ok(legend.includes("jazz") && legend.includes("robotics") && !legend.includes("other"), legend.join(", "));
  await shot(page, "map");

  // Click a drawn point (a lit pixel).
  assert.ok(target, "no drawn point found to click");
  await page.mouse.move(target.x, target.y);
  await page.locator('[data-role="hover"]').waitFor();
  await page.mouse.click(target.x, target.y);
  const panel = page.locator("[data-selected]");
  await panel.waitFor();
  await page.locator("[data-neighbour]").first().waitFor();
  const selectedId = (await panel.getAttribute("data-selected"))!;
  const shown = await page
    .locator("[data-neighbour]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-neighbour")));
  const sample = await t.db.collection("sample");
  const [rec] = await sample.get([selectedId], { withVectors: true });
  const engine = await sample.query({ vector: rec.vectors!.vector as number[], limit: 11 });
  assert.deepEqual(
    shown,
    engine.hits
      .map((h) => h.id)
      .filter((id) => id !== selectedId)
      .slice(0, 10),
  );
  await shot(page, "map-neighbours");

  // A filter keeps the matching points.
  await page.fill('textarea[name="mapFilter"]', '{"topic": "jazz"}');
  await page.click('.map-side button[type="submit"]');
  await page.locator('[data-role="filtered"]').waitFor();
  const jazz = await sample.count({ topic: "jazz" });
  assert.match(
    await seen(page.locator('[data-role="filtered"]')),
    new RegExp(`${jazz.toLocaleString("en-US")} points`),
  );

  // A smaller map: a sample chosen by id, its size shown.
  await page.fill('input[name="mapLimit"]', "5000");
  await page.click('button[data-action="open-map"]');
  await page.waitForFunction(() =>
    document.querySelector('[data-role="map-status"]')?.textContent?.includes("Sample of"),
  );
  await page.waitForSelector('[data-role="map-status"][data-phase="pca-drawn"], [data-phase="umap-drawn"]', {
    timeout: 60_000,
  });
  const status = /Sample of ([\d,]+) of 19,999 records/.exec(await seen(page.locator('[data-role="map-status"]')));
  assert.ok(status, "no sample size shown");
  const sampled = Number(status[1].replace(/,/g, ""));
  assert.ok(sampled > 4_500 && sampled <= 5_000, `sample of ${sampled}`);
  assert.ok((await scanMap(page)).lit > 500);
  assert.deepEqual(errors, []);
});

/** The loaded thumbnail pictures in `scope`: each one's record id, source and decoded width. */
function pictures(scope: Locator): Promise<{ id: string; src: string; width: number }[]> {
  return scope.locator("img[data-thumbnail]").evaluateAll((imgs) =>
    (imgs as HTMLImageElement[]).map((img) => ({
      id: img.dataset.thumbnail ?? "",
      src: img.src,
      width: img.complete ? img.naturalWidth : 0,
    })),
  );
}

test("images: the records view and the map's hovered point show each image record's stored thumbnail", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  const photos = await t.db.collection("photos");
  const stored = new Map(
    (await photos.scroll({ limit: 1000, withPayload: true })).records.map((r) => [r.id, r.payload?.thumbnail]),
  );
  assert.equal(stored.size, 8 * PHOTOS_PER_CLASS);
  await page.goto(`${t.url}/console/#/records/photos`);
  await page.locator("tr[data-id] img[data-thumbnail]").first().waitFor();
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll<HTMLImageElement>("img[data-thumbnail]")).every((i) => i.complete),
  );
  const rows = await pictures(page.locator("table.records-table"));
  assert.equal(rows.length, stored.size, "one picture per row");
  for (const r of rows) {
    assert.equal(r.src, stored.get(r.id), `${r.id} shows its own thumbnail`);
    assert.ok(r.width > 0 && r.width <= 64, `${r.id}'s thumbnail decoded (${r.width} px wide)`);
  }
  assert.doesNotMatch(await seen(page.locator("table.records-table")), /data:image/, "no data URL as text");
  const id = rows[5].id;
  await page.locator(`tr[data-id="${id}"]`).click();
  const detail = page.locator(`[data-detail="${id}"]`);
  await detail.locator("img[data-thumbnail]").waitFor();
  assert.equal((await pictures(detail))[0].src, stored.get(id));
  assert.match(await seen(detail), /"fileName": "/);
  await shot(page, "records-images");

  await page.goto(`${t.url}/console/#/map/photos`);
  await page.click('button[data-action="open-map"]');
  await page.waitForSelector('[data-role="map-status"][data-phase="pca-drawn"], [data-phase="umap-drawn"]', {
    timeout: 60_000,
  });
  // Hover drawn pixels until one is a point: the panel then shows that record's thumbnail.
  const lit = await page.evaluate(() => {
    const gl = document.querySelector<HTMLCanvasElement>('canvas[data-role="map-canvas"]')!;
    const c = document.createElement("canvas");
    c.width = gl.width;
    c.height = gl.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(gl, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const rect = gl.getBoundingClientRect();
    const found: { x: number; y: number }[] = [];
    for (let y = 0; y < c.height; y += 2)
      for (let x = 0; x < c.width; x += 2) {
        const i = (y * c.width + x) * 4;
        if (Math.abs(px[i] - 0x10) + Math.abs(px[i + 1] - 0x14) + Math.abs(px[i + 2] - 0x1b) > 120)
          found.push({ x: rect.left + (x * rect.width) / c.width, y: rect.top + (y * rect.height) / c.height });
      }
    return found;
  });
  assert.ok(lit.length > 0, "no point drawn");
  const hover = page.locator('[data-role="hover"]');
  for (const p of lit.filter((_, i) => i % Math.ceil(lit.length / 40) === 0)) {
    await page.mouse.move(p.x, p.y);
    if (await hover.isVisible()) break;
  }
  await hover.locator("img[data-thumbnail]").waitFor();
  await page.waitForFunction(() => document.querySelector<HTMLImageElement>('[data-role="hover"] img')?.complete);
  const [shown] = await pictures(hover);
  assert.equal(await seen(hover.locator("code").first()), shown.id);
  assert.equal(shown.src, stored.get(shown.id), "the hovered point's own thumbnail");
  assert.ok(shown.width > 0);
  assert.match(await seen(hover), /\(the picture above\)/);
  await shot(page, "map-image-hover");
  assert.deepEqual(errors, []);
});

test("keys: an admin creates a scoped key (shown once) that works, and revokes it", async () => {
  const { page, errors } = await newPage();
  await signIn(page, ADMIN_KEY);
  await page.goto(`${t.url}/console/#/keys`);
  await page.fill('input[name="keyName"]', "e2e-reader");
  await page.selectOption('select[name="keyReach"]', "collections");
  await page.selectOption('select[name="keyCollections"]', ["articles"]);
  await page.fill('input[name="quotaRead"]', "1000");
  await page.click('form.create-key button[type="submit"]');
  const created = page.locator('[data-role="created-key"]');
  await created.waitFor();
  const key = (await seen(created.locator("pre"))).trim();
  const id = (await seen(created.locator("code"))).trim();
  assert.match(await seen(page.locator(`tr[data-key="${id}"]`)), /e2e-reader\s+read\s+articles\s+1000 read/);
  const me = await t.call("GET", "/v1/key", { key });
  assert.equal(me.status, 200);
  assert.deepEqual(me.json.collections, ["articles"]);
  assert.equal((await t.call("GET", "/v1/collections/sample", { key })).status, 404);
  await shot(page, "keys");
  await page.click(`tr[data-key="${id}"] button[data-action="revoke"]`);
  await page.click(`tr[data-key="${id}"] button[data-action="confirm-revoke"]`);
  await page.locator(`tr[data-key="${id}"]`).waitFor({ state: "detached" });
  assert.equal((await t.call("GET", "/v1/key", { key })).status, 401);

  await page.goto(`${t.url}/console/#/health`);
  await page.locator('[data-stat="kernels"]').waitFor();
  assert.match(await seen(page.locator('[data-stat="kernels"]')), /\w/);
  await page.locator('[data-role="latencies"]').waitFor();
  assert.match(await seen(page.locator('[data-role="latencies"]')), /\/v1\/collections\/\{name\}\/query\s+\d+/);
  assert.match(await seen(page.locator('[data-role="recovery"]')), /operations replayed/);
  await shot(page, "health");
  assert.deepEqual(errors, []);
});

test("read key: no write or key-admin action is shown, and a forced write is refused by the server", async () => {
  const { page, errors } = await newPage();
  await signIn(page, t.readKey);
  await page.locator('tr[data-collection="sample"]').waitFor();
  assert.deepEqual(await page.locator("nav a").evaluateAll((as) => as.map((a) => a.getAttribute("data-view"))), [
    "collections",
    "records",
    "query",
    "map",
    "health",
  ]);
  assert.equal(await page.locator('button[data-action="drop"]').count(), 0);
  assert.equal(await page.locator("form.create").count(), 0);
  assert.match(await seen(page.locator('tr[data-collection="sample"]')), /stats need an admin key/);
  await page.goto(`${t.url}/console/#/records/sample`);
  await page.locator('tr[data-id="doc-00001"]').click();
  await page.locator('[data-detail="doc-00001"]').waitFor();
  assert.equal(await page.locator('button[data-action="delete"]').count(), 0);
  await page.goto(`${t.url}/console/#/keys`);
  assert.equal(await page.locator("main").getAttribute("data-current-view"), "collections");
  await shot(page, "read-key");

  // Forced from the page with the key the console holds: the server refuses.
  const statuses = await page.evaluate(async () => {
    const key = sessionStorage.getItem("quiver.console.apiKey");
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const upsert = await fetch("/v1/collections/sample/upsert", {
      method: "POST",
      headers,
      body: JSON.stringify({ records: [{ id: "x", vector: new Array(64).fill(0.1) }] }),
    });
    const drop = await fetch("/v1/collections/sample", { method: "DELETE", headers });
    const keys = await fetch("/v1/keys", { headers });
    return [upsert.status, drop.status, keys.status];
  });
  assert.deepEqual(statuses, [403, 403, 403]);
  assert.equal(await (await t.db.collection("sample")).count(), 19_999);

  await page.click("header .who button");
  await page.waitForSelector('input[name="apiKey"]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem("quiver.console.apiKey")), null);
  assert.deepEqual(errors, []);
});
