// `npm run bench -- runtimes [--data DIR] [--records N] [--queries N] [--repeats N] [--json]`: the same
// workload (runtimes-child.ts: N records upserted into an in-memory database with an HNSW vector, then
// every query once, default ef) under Node, Bun and Deno, interleaved and repeated, medians quoted.
// Recall@10 is scored against brute force over the same N records, and the ranked ids of every query
// must be identical across runtimes (same WebAssembly, same seeded graph). Chromium is listed but not
// run until the Chromium runner (test/support/chromium.ts, issue 12's browser half) is on main.

import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bruteForce, recallOf, type BenchMetric } from "./ann-data.js";
import { median } from "./median.js";

export interface RuntimesBenchOptions {
  data?: string;
  records?: number;
  queries?: number;
  repeats?: number;
  json?: boolean;
}

type Runtime = "node" | "bun" | "deno";
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const CHILD = join(HERE, "runtimes-child.js");
const DEFAULT_DATA = "../shared/data/glove-100-angular-100k";
/** Runtimes measured elsewhere or not yet: said in the output, never silently left out. */
const NOT_RUN: Record<string, string> = {
  chromium: "not run: the Chromium runner (test/support/chromium.ts) has not landed on main yet",
};

interface ChildResult {
  kernels: string;
  upsertsPerSec: number;
  queriesPerSec: number;
  ids: number[][];
}

function command(runtime: Runtime, args: string[]): [string, string[]] {
  if (runtime === "node") return [process.execPath, [CHILD, ...args]];
  const bin = join(ROOT, "node_modules/.bin", runtime);
  if (!existsSync(bin)) throw new Error(`${runtime} is not installed (${bin})`);
  return runtime === "bun" ? [bin, [CHILD, ...args]] : [bin, ["run", "--allow-all", CHILD, ...args]];
}

function rows(path: string, dim: number, n: number): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + Math.min(b.byteLength, n * dim * 4)));
}

export async function runRuntimesBench(opts: RuntimesBenchOptions): Promise<void> {
  const dir = resolve(opts.data ?? DEFAULT_DATA);
  const records = opts.records ?? 20_000;
  const queryCount = opts.queries ?? 200;
  const repeats = opts.repeats ?? 3;
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { dim: number; metric: string };
  const metric: BenchMetric = meta.metric === "l2" || meta.metric === "euclidean" ? "l2" : "cosine";
  const base = rows(join(dir, "base.f32"), meta.dim, records);
  const q = rows(join(dir, "query.f32"), meta.dim, queryCount);
  const queries = Array.from({ length: q.length / meta.dim }, (_, i) => q.subarray(i * meta.dim, (i + 1) * meta.dim));
  const truth = queries.map((v) => bruteForce(base, base.length / meta.dim, meta.dim, metric, v, null));

  const runtimes: Runtime[] = ["node", "bun", "deno"];
  const seen = new Map<Runtime, ChildResult[]>(runtimes.map((r) => [r, []]));
  const run = promisify(execFile);
  for (let rep = 0; rep < repeats; rep++) {
    // Interleaved, starting with a different runtime each round, so drift on this shared machine spreads evenly.
    for (let i = 0; i < runtimes.length; i++) {
      const runtime = runtimes[(rep + i) % runtimes.length];
      const [exe, args] = command(runtime, [dir, String(records), String(queryCount)]);
      const { stdout } = await run(exe, args, { maxBuffer: 64 << 20, timeout: 10 * 60_000 });
      seen.get(runtime)!.push(JSON.parse(stdout.trim().split("\n").pop()!) as ChildResult);
    }
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
  const setup = { data: dir, records, queries: queries.length, dim: meta.dim, metric, repeats };
  if (opts.json) {
    console.log(JSON.stringify({ setup, summary, notRun: NOT_RUN }, null, 2));
    return;
  }
  console.log(
    `runtimes: ${records} records (${meta.dim}-d ${metric}, ${dir}), ${queries.length} queries, k=10, default ef; median of ${repeats}, interleaved`,
  );
  console.log(
    "| runtime | kernels | upserts/s | queries/s | recall@10 vs brute force | ranked ids identical to Node |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- |");
  for (const s of summary)
    console.log(
      `| ${s.runtime} | ${s.kernels} | ${s.upsertsPerSec} | ${s.queriesPerSec} | ${s.recallAt10} | ${s.sameIdsAsNode ? "yes" : "NO"} |`,
    );
  for (const [runtime, why] of Object.entries(NOT_RUN)) console.log(`| ${runtime} | ${why} | | | | |`);
}
