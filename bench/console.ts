// Console benchmark (issue 15), in headless Debian Chromium (playwright-core; WebGL on SwiftShader,
// no GPU): from server start to an interactive sign-in page and to the collections listed after
// sign-in; from clicking "Draw the map" to the PCA map drawn and to the UMAP map drawn, on the demo's
// data at 20,000 and 100,000 records; the longest main-thread task (PerformanceObserver "longtask")
// while UMAP runs in its worker (and, as a control, on the idle page afterwards); and the console's
// size gzipped. Medians of --repeats (default 3;
// 1 at 100,000 records, whose UMAP takes minutes). `--umap-seconds N` stops watching UMAP after N s
// (the long tasks are then those of its first N s, and UMAP's time and draw are not measured);
// `--trace DIR` records a Chromium trace of the UMAP window per run and prints what the long tasks did.
// `npm run bench -- console [--repeats N] [--sizes 20000,100000] [--umap-seconds N] [--trace DIR] [--json]`.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { MemoryDirectory, open } from "../src/index.js";
import { serveApp } from "../src/node/http-server.js";
import { BUILT_CONSOLE_DIR, loadConsoleAssets } from "../src/node/console-assets.js";
import { startQuiverServer } from "../src/server/index.js";
import { launchChromium } from "../test/support/chromium.js";
import { loadSample } from "../test/console/fixture.js";
import { median } from "./median.js";
import { attributeLongTasks, formatAttribution, TRACE_CATEGORIES } from "./console-trace.js";

export interface ConsoleBenchOptions {
  repeats?: number;
  sizes?: number[];
  json?: boolean;
  /** Stop watching UMAP after this many seconds (default: until it finishes, up to UMAP_TIMEOUT_MS). */
  umapSeconds?: number;
  /** Folder for a Chromium trace of each run's UMAP window, with the long tasks' attribution printed. */
  traceDir?: string;
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
  /** Click -> UMAP map drawn, or null when it did not finish within the time watched. */
  umapMs: number | null;
  /**
   * Longest main-thread task between the PCA draw and the arrival of UMAP's result (UMAP running),
   * or the end of the time watched (--umap-seconds).
   */
  longestTaskDuringUmapMs: number;
  longTasksDuringUmap: number;
  /** Longest main-thread task while drawing UMAP's result (after it arrived); null when not watched. */
  longestTaskDrawingUmapMs: number | null;
  /**
   * Control (null when UMAP was stopped): longest main-thread task in 10 s of an idle page after the map is drawn. On a loaded
   * machine the page's thread is descheduled, and tasks of a few milliseconds last hundreds.
   */
  longestTaskIdleMs: number | null;
  /** How long UMAP ran while watched: from the PCA draw to its result, or to the end of --umap-seconds. */
  watchedUmapMs: number;
  /**
   * With --trace: the longest main-thread task (over 50 ms, else 0) from the PCA draw to the end of the
   * watch (UMAP running, then its draw), wall and CPU time: wall far above CPU is a descheduled thread.
   */
  tracedLongest: { wallMs: number; cpuMs: number } | null;
}

async function oneRun(browser: Browser, records: number, opts: ConsoleBenchOptions, label: string): Promise<Run> {
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
    const tracePath = opts.traceDir ? join(opts.traceDir, `console-${label}.json`) : undefined;
    if (tracePath) await browser.startTracing(page, { path: tracePath, categories: TRACE_CATEGORIES });
    const watchMs = opts.umapSeconds !== undefined ? opts.umapSeconds * 1000 : UMAP_TIMEOUT_MS;
    let umapDone = true;
    try {
      await page.waitForSelector('[data-phase="umap-drawn"]', { timeout: watchMs });
    } catch {
      umapDone = false;
    }
    let tracedLongest: { wallMs: number; cpuMs: number } | null = null;
    if (tracePath) {
      const trace = JSON.parse((await browser.stopTracing()).toString("utf8"));
      const attributed = attributeLongTasks(trace);
      tracedLongest = attributed[0] ?? { wallMs: 0, cpuMs: 0 };
      console.log(`${label}: long tasks in the trace (${tracePath}):\n${formatAttribution(attributed)}`);
    }
    // The control window, when UMAP finished: nothing runs on the page (the worker has ended). When
    // UMAP was stopped, the worker still runs: no control, and no draw of its result to time.
    if (umapDone) {
      await page.evaluate(() => performance.mark("quiver-bench-idle"));
      await page.waitForTimeout(10_000);
    }
    const t = await page.evaluate(() => {
      const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? null;
      const w = window as unknown as { longTasks: { start: number; duration: number }[] };
      return {
        click: at("quiver-bench-click")!,
        pca: at("quiver-map-pca-drawn")!,
        umapReceived: at("quiver-map-umap-received"),
        umap: at("quiver-map-umap-drawn"),
        idle: at("quiver-bench-idle"),
        now: performance.now(),
        tasks: w.longTasks,
      };
    });
    const received = t.umapReceived ?? t.now;
    // Tasks that start after the PCA draw has finished and before UMAP's result arrives (or the end of
    // the time watched): UMAP running.
    const during = t.tasks.filter((x) => x.start > t.pca && x.start < received);
    const idleFrom = t.idle ?? Number.POSITIVE_INFINITY;
    const drawing = t.tasks.filter((x) => x.start >= received && x.start < idleFrom);
    const idle = t.tasks.filter((x) => x.start >= idleFrom);
    return {
      records,
      toSignInMs,
      toCollectionsMs,
      pcaMs: t.pca - t.click,
      umapMs: umapDone && t.umap !== null ? t.umap - t.click : null,
      watchedUmapMs: received - t.pca,
      longestTaskDuringUmapMs: Math.max(0, ...during.map((x) => x.duration)),
      longTasksDuringUmap: during.length,
      longestTaskDrawingUmapMs: umapDone ? Math.max(0, ...drawing.map((x) => x.duration)) : null,
      longestTaskIdleMs: umapDone ? Math.max(0, ...idle.map((x) => x.duration)) : null,
      tracedLongest,
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

const fmt = (ms: number | null) => (ms === null ? "not measured" : `${(ms / 1000).toFixed(2)} s`);
const fmtMs = (ms: number | null) => (ms === null ? "not measured" : `${ms.toFixed(0)} ms`);
/** The largest of the runs' values, or null when a run did not measure it. */
const worst = (xs: (number | null)[]) => (xs.includes(null) ? null : Math.max(...(xs as number[])));

export async function runConsoleBench(opts: ConsoleBenchOptions): Promise<void> {
  const sizes = opts.sizes ?? [20_000, 100_000];
  const browser = await launchChromium({ softwareWebGL: true });
  const results: { records: number; runs: Run[] }[] = [];
  try {
    for (const records of sizes) {
      const repeats = opts.repeats ?? (records > 50_000 ? 1 : 3);
      const runs: Run[] = [];
      for (let i = 0; i < repeats; i++) {
        const r = await oneRun(browser, records, opts, `${records}-${i + 1}`);
        runs.push(r);
        if (!opts.json)
          console.log(
            `${records} records, run ${i + 1}/${repeats}: sign-in ${fmt(r.toSignInMs)}, collections ${fmt(r.toCollectionsMs)}, PCA ${fmt(r.pcaMs)}, UMAP ${fmt(r.umapMs)}, longest task in ${fmt(r.watchedUmapMs)} of UMAP ${fmtMs(r.longestTaskDuringUmapMs)} (${r.longTasksDuringUmap} long tasks), drawing its result ${fmtMs(r.longestTaskDrawingUmapMs)}, idle control ${fmtMs(r.longestTaskIdleMs)}${r.tracedLongest ? `, traced longest task ${r.tracedLongest.wallMs.toFixed(0)} ms wall / ${r.tracedLongest.cpuMs.toFixed(0)} ms CPU` : ""}`,
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
    watchedUmapMs: m(runs, (r) => r.watchedUmapMs),
    longestTaskDrawingUmapMs: worst(runs.map((r) => r.longestTaskDrawingUmapMs)),
    longestTaskIdleMs: worst(runs.map((r) => r.longestTaskIdleMs)),
  }));
  if (opts.json) {
    console.log(JSON.stringify({ summary, sizes: sizesOut }, null, 2));
    return;
  }
  console.log(
    "\n| records | runs | server start → sign-in page | → collections listed | click → PCA map drawn | click → UMAP map drawn | UMAP watched | longest main-thread task while UMAP runs | drawing its result | idle page, 10 s after (control) |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of summary)
    console.log(
      `| ${s.records.toLocaleString("en-US")} | ${s.repeats} | ${fmt(s.toSignInMs)} | ${fmt(s.toCollectionsMs)} | ${fmt(s.pcaMs)} | ${fmt(s.umapMs)} | ${fmt(s.watchedUmapMs)} | ${fmtMs(s.longestTaskDuringUmapMs)} | ${fmtMs(s.longestTaskDrawingUmapMs)} | ${fmtMs(s.longestTaskIdleMs)} |`,
    );
  console.log("\n| file | bytes | gzip -9 |\n| --- | ---: | ---: |");
  for (const f of sizesOut)
    console.log(`| ${f.file} | ${f.bytes.toLocaleString("en-US")} | ${f.gzip.toLocaleString("en-US")} |`);
  const total = sizesOut.reduce((a, f) => a + f.gzip, 0);
  console.log(
    `| total | ${sizesOut.reduce((a, f) => a + f.bytes, 0).toLocaleString("en-US")} | ${total.toLocaleString("en-US")} |`,
  );
}
