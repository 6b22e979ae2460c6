// `npm run bench -- runtimes [--data DIR] [--records N] [--queries N] [--repeats N] [--json]`: the same
// workload (runtimes-workload.ts: N records upserted into an in-memory database with an HNSW vector,
// then every query once, default ef) under Node, Bun and Deno (runtimes-child.ts, a process each) and
// headless Chromium (runtimes-page.ts, a fresh page each, on the main thread), interleaved and
// repeated, medians quoted. Recall@10 is scored against brute force over the same N records, and the
// ranked ids of every query must be identical across runtimes (same WebAssembly, same seeded graph).

import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { bundle, serveFiles, type LoopbackServer } from "../test/browser/bundle-server.js";
import { launchChromium } from "../test/support/chromium.js";
import { bruteForce, recallOf, type BenchMetric } from "./ann-data.js";
import { median } from "./median.js";
import type { WorkloadResult } from "./runtimes-workload.js";

export interface RuntimesBenchOptions {
  data?: string;
  records?: number;
  queries?: number;
  repeats?: number;
  json?: boolean;
}

type Runtime = "node" | "bun" | "deno" | "chromium";
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const CHILD = join(HERE, "runtimes-child.js");
const DEFAULT_DATA = "../shared/data/glove-100-angular-100k";

function command(runtime: Exclude<Runtime, "chromium">, args: string[]): [string, string[]] {
  if (runtime === "node") return [process.execPath, [CHILD, ...args]];
  const bin = join(ROOT, "node_modules/.bin", runtime);
  if (!existsSync(bin)) throw new Error(`${runtime} is not installed (${bin})`);
  return runtime === "bun" ? [bin, [CHILD, ...args]] : [bin, ["run", "--allow-all", CHILD, ...args]];
}

/** The first `n` rows' bytes of a row-major f32 file of `dim` columns. */
function rowBytes(path: string, dim: number, n: number): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + Math.min(b.byteLength, n * dim * 4)));
}

/** Chromium with the bundled page and the cut data set served on loopback; a fresh page per run. */
async function startChromium(baseBytes: Uint8Array, queryBytes: Uint8Array) {
  const files = await bundle({ page: "../../bench/runtimes-page.js" });
  files.set("/base.f32", baseBytes);
  files.set("/query.f32", queryBytes);
  const server: LoopbackServer = await serveFiles(files, "/page.js");
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
  } catch (e) {
    await server.close();
    throw e;
  }
  const run = async (dim: number, metric: BenchMetric): Promise<WorkloadResult> => {
    const page = await (browser as Browser).newPage();
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => "runRuntimesWorkload" in globalThis, undefined, { timeout: 30_000 });
      return await page.evaluate(
        ([d, m]) =>
          (
            globalThis as unknown as { runRuntimesWorkload(d: number, m: string): Promise<WorkloadResult> }
          ).runRuntimesWorkload(d, m),
        [dim, metric] as const,
      );
    } finally {
      await page.close();
    }
  };
  return {
    version: (browser as Browser).version(),
    run,
    close: async () => {
      await browser?.close();
      await server.close();
    },
  };
}

export async function runRuntimesBench(opts: RuntimesBenchOptions): Promise<void> {
  const dir = resolve(opts.data ?? DEFAULT_DATA);
  const records = opts.records ?? 20_000;
  const queryCount = opts.queries ?? 200;
  const repeats = opts.repeats ?? 3;
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { dim: number; metric: string };
  const metric: BenchMetric = meta.metric === "l2" || meta.metric === "euclidean" ? "l2" : "cosine";
  const baseBytes = rowBytes(join(dir, "base.f32"), meta.dim, records);
  const queryBytes = rowBytes(join(dir, "query.f32"), meta.dim, queryCount);
  const base = new Float32Array(baseBytes.buffer);
  const q = new Float32Array(queryBytes.buffer);
  const queries = Array.from({ length: q.length / meta.dim }, (_, i) => q.subarray(i * meta.dim, (i + 1) * meta.dim));
  const truth = queries.map((v) => bruteForce(base, base.length / meta.dim, meta.dim, metric, v, null));

  const runtimes: Runtime[] = ["node", "bun", "deno", "chromium"];
  const seen = new Map<Runtime, WorkloadResult[]>(runtimes.map((r) => [r, []]));
  const run = promisify(execFile);
  const chromium = await startChromium(baseBytes, queryBytes);
  try {
    for (let rep = 0; rep < repeats; rep++) {
      // Interleaved, starting with a different runtime each round, so drift on this shared machine spreads evenly.
      for (let i = 0; i < runtimes.length; i++) {
        const runtime = runtimes[(rep + i) % runtimes.length];
        if (runtime === "chromium") {
          seen.get(runtime)!.push(await chromium.run(meta.dim, metric));
          continue;
        }
        const [exe, args] = command(runtime, [dir, String(records), String(queryCount)]);
        const { stdout } = await run(exe, args, { maxBuffer: 64 << 20, timeout: 10 * 60_000 });
        seen.get(runtime)!.push(JSON.parse(stdout.trim().split("\n").pop()!) as WorkloadResult);
      }
    }
  } finally {
    await chromium.close();
  }

  const reference = JSON.stringify(seen.get("node")![0].ids);
  const summary = runtimes.map((runtime) => {
    const results = seen.get(runtime)!;
    return {
      runtime,
      kernels: results[0].kernels,
      upsertsPerSec: Math.round(median(results.map((r) => r.upsertsPerSec))),
      queriesPerSec: Math.round(median(results.map((r) => r.queriesPerSec))),
      recallAt10: Math.round(recallOf(results[0].ids, truth) * 1000) / 1000,
      sameIdsAsNode: results.every((r) => JSON.stringify(r.ids) === reference),
    };
  });
  const setup = {
    data: dir,
    records,
    queries: queries.length,
    dim: meta.dim,
    metric,
    repeats,
    chromium: chromium.version,
  };
  if (opts.json) {
    console.log(JSON.stringify({ setup, summary }, null, 2));
    return;
  }
  console.log(
    `runtimes: ${records} records (${meta.dim}-d ${metric}, ${dir}), ${queries.length} queries, k=10, default ef; median of ${repeats}, interleaved; Chromium ${chromium.version} (page main thread)`,
  );
  console.log(
    "| runtime | kernels | upserts/s | queries/s | recall@10 vs brute force | ranked ids identical to Node |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- |");
  for (const s of summary)
    console.log(
      `| ${s.runtime} | ${s.kernels} | ${s.upsertsPerSec} | ${s.queriesPerSec} | ${s.recallAt10} | ${s.sameIdsAsNode ? "yes" : "NO"} |`,
    );
}
