// Console benchmark (issue 15), in headless Debian Chromium (playwright-core; WebGL on SwiftShader,
// no GPU): from server start to an interactive sign-in page and to the collections listed after
// sign-in; from clicking "Draw the map" to the PCA map drawn and to the UMAP map drawn, on the demo's
// data at 20,000 and 100,000 records; the longest main-thread task (PerformanceObserver "longtask")
// while UMAP runs in its worker (and, as a control, on the idle page afterwards); and the console's
// size gzipped. Medians of --repeats (default 3;
// 1 at 100,000 records, whose UMAP takes minutes).
// `npm run bench -- console [--repeats N] [--sizes 20000,100000] [--json]`.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { MemoryDirectory, open } from "../src/index.js";
import { serveApp } from "../src/node/http-server.js";
import { BUILT_CONSOLE_DIR, loadConsoleAssets } from "../src/node/console-assets.js";
import { startQuiverServer } from "../src/server/index.js";
import { launchChromium } from "../test/console/browser.js";
import { loadSample } from "../test/console/fixture.js";
import { median } from "./median.js";

export interface ConsoleBenchOptions {
  repeats?: number;
  sizes?: number[];
  json?: boolean;
}

const ADMIN = "bench-admin-key-0123456789abcdef";
/** UMAP on 100,000 points can take many minutes on this machine; past this the run reports a timeout. */
const UMAP_TIMEOUT_MS = 30 * 60_000;

interface Run {
  records: number;
  /** Server start (database open and loaded) -> sign-in form usable. */
  toSignInMs: number;
  /** Server start -> collections listed after signing in. */
  toCollectionsMs: number;
  /** Click on "Draw the map" -> PCA map drawn (records read, projected in the worker, drawn). */
  pcaMs: number;
  /** Click -> UMAP map drawn, or null when it did not finish within UMAP_TIMEOUT_MS. */
  umapMs: number | null;
  /** Longest main-thread task between the PCA draw and the arrival of UMAP's result (UMAP running). */
  longestTaskDuringUmapMs: number;
  longTasksDuringUmap: number;
  /** Longest main-thread task while drawing UMAP's result (after it arrived). */
  longestTaskDrawingUmapMs: number;
  /**
   * Control: longest main-thread task in 10 s of an idle page after the map is drawn. On a loaded
   * machine the page's thread is descheduled, and tasks of a few milliseconds last hundreds.
   */
  longestTaskIdleMs: number;
}

async function oneRun(browser: Browser, records: number): Promise<Run> {
  const db = await open(new MemoryDirectory());
  await loadSample(db, records);
  const assets = loadConsoleAssets();
  if (!assets) throw new Error("dist/console is missing: npm run build");
  const started = performance.now();
  const server = await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: ADMIN, console: assets });
  const http = await serveApp(server.app, { host: "127.0.0.1", port: 0 });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(`${http.url}/console/`);
    await page.waitForSelector('input[name="apiKey"]');
    const toSignInMs = performance.now() - started;
    await page.fill('input[name="apiKey"]', ADMIN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('tr[data-collection="sample"]');
    const toCollectionsMs = performance.now() - started;

    await page.goto(`${http.url}/console/#/map/sample`);
    await page.waitForSelector('button[data-action="open-map"]:not([disabled])');
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: { start: number; duration: number }[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: "longtask" });
      performance.mark("quiver-bench-click");
      document.querySelector<HTMLButtonElement>('button[data-action="open-map"]')!.click();
    });
    await page.waitForSelector('[data-phase="pca-drawn"], [data-phase="umap-drawn"]', { timeout: 600_000 });
    let umapDone = true;
    try {
      await page.waitForSelector('[data-phase="umap-drawn"]', { timeout: UMAP_TIMEOUT_MS });
    } catch {
      umapDone = false;
    }
    // The control window: nothing runs on the page (the worker has ended).
    await page.evaluate(() => performance.mark("quiver-bench-idle"));
    await page.waitForTimeout(10_000);
    const t = await page.evaluate(() => {
      const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? null;
      const w = window as unknown as { longTasks: { start: number; duration: number }[] };
      return {
        click: at("quiver-bench-click")!,
        pca: at("quiver-map-pca-drawn")!,
        umapReceived: at("quiver-map-umap-received"),
        umap: at("quiver-map-umap-drawn"),
        idle: at("quiver-bench-idle")!,
        tasks: w.longTasks,
      };
    });
    const received = t.umapReceived ?? Number.POSITIVE_INFINITY;
    // Tasks that start after the PCA draw has finished and before UMAP's result arrives: UMAP running.
    const during = t.tasks.filter((x) => x.start > t.pca && x.start < received);
    const drawing = t.tasks.filter((x) => x.start >= received && x.start < t.idle);
    const idle = t.tasks.filter((x) => x.start >= t.idle);
    return {
      records,
      toSignInMs,
      toCollectionsMs,
      pcaMs: t.pca - t.click,
      umapMs: umapDone && t.umap !== null ? t.umap - t.click : null,
      longestTaskDuringUmapMs: Math.max(0, ...during.map((x) => x.duration)),
      longTasksDuringUmap: during.length,
      longestTaskDrawingUmapMs: Math.max(0, ...drawing.map((x) => x.duration)),
      longestTaskIdleMs: Math.max(0, ...idle.map((x) => x.duration)),
    };
  } finally {
    await context.close();
    await http.close(1000);
    await server.flush();
    await db.close();
  }
}

/** The built console's files, raw and gzipped (level 9, as a server or CDN would send them). */
export function consoleSizes(): { file: string; bytes: number; gzip: number }[] {
  const out: { file: string; bytes: number; gzip: number }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else {
        const body = readFileSync(join(dir, e.name));
        out.push({ file: prefix + e.name, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length });
      }
    }
  };
  walk(BUILT_CONSOLE_DIR, "");
  return out.sort((a, b) => b.bytes - a.bytes);
}

const fmt = (ms: number | null) => (ms === null ? "did not finish" : `${(ms / 1000).toFixed(2)} s`);

export async function runConsoleBench(opts: ConsoleBenchOptions): Promise<void> {
  const sizes = opts.sizes ?? [20_000, 100_000];
  const browser = await launchChromium();
  const results: { records: number; runs: Run[] }[] = [];
  try {
    for (const records of sizes) {
      const repeats = opts.repeats ?? (records > 50_000 ? 1 : 3);
      const runs: Run[] = [];
      for (let i = 0; i < repeats; i++) {
        const r = await oneRun(browser, records);
        runs.push(r);
        if (!opts.json)
          console.log(
            `${records} records, run ${i + 1}/${repeats}: sign-in ${fmt(r.toSignInMs)}, collections ${fmt(r.toCollectionsMs)}, PCA ${fmt(r.pcaMs)}, UMAP ${fmt(r.umapMs)}, longest task while UMAP runs ${r.longestTaskDuringUmapMs.toFixed(0)} ms (${r.longTasksDuringUmap} long tasks), drawing its result ${r.longestTaskDrawingUmapMs.toFixed(0)} ms, idle control ${r.longestTaskIdleMs.toFixed(0)} ms`,
          );
      }
      results.push({ records, runs });
    }
  } finally {
    await browser.close();
  }
  const sizesOut = consoleSizes();
  const m = (runs: Run[], f: (r: Run) => number | null) => {
    const xs = runs.map(f).filter((x): x is number => x !== null);
    return xs.length === runs.length ? median(xs) : null;
  };
  const summary = results.map(({ records, runs }) => ({
    records,
    repeats: runs.length,
    toSignInMs: m(runs, (r) => r.toSignInMs),
    toCollectionsMs: m(runs, (r) => r.toCollectionsMs),
    pcaMs: m(runs, (r) => r.pcaMs),
    umapMs: m(runs, (r) => r.umapMs),
    longestTaskDuringUmapMs: Math.max(...runs.map((r) => r.longestTaskDuringUmapMs)),
    longestTaskDrawingUmapMs: Math.max(...runs.map((r) => r.longestTaskDrawingUmapMs)),
    longestTaskIdleMs: Math.max(...runs.map((r) => r.longestTaskIdleMs)),
  }));
  if (opts.json) {
    console.log(JSON.stringify({ summary, sizes: sizesOut }, null, 2));
    return;
  }
  console.log(
    "\n| records | runs | server start → sign-in page | → collections listed | click → PCA map drawn | click → UMAP map drawn | longest main-thread task while UMAP runs | drawing its result | idle page, 10 s after (control) |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of summary)
    console.log(
      `| ${s.records.toLocaleString("en-US")} | ${s.repeats} | ${fmt(s.toSignInMs)} | ${fmt(s.toCollectionsMs)} | ${fmt(s.pcaMs)} | ${fmt(s.umapMs)} | ${s.longestTaskDuringUmapMs.toFixed(0)} ms | ${s.longestTaskDrawingUmapMs.toFixed(0)} ms | ${s.longestTaskIdleMs.toFixed(0)} ms |`,
    );
  console.log("\n| file | bytes | gzip -9 |\n| --- | ---: | ---: |");
  for (const f of sizesOut)
    console.log(`| ${f.file} | ${f.bytes.toLocaleString("en-US")} | ${f.gzip.toLocaleString("en-US")} |`);
  const total = sizesOut.reduce((a, f) => a + f.gzip, 0);
  console.log(
    `| total | ${sizesOut.reduce((a, f) => a + f.bytes, 0).toLocaleString("en-US")} | ${total.toLocaleString("en-US")} |`,
  );
}
