// Benchmark entry point: `node dist/bench/main.js [SUB-COMMAND] [--data DIR] [--json] [--repeats N]`,
// the sub-commands in BENCHES below; `kernels` is the default. `ann` also takes --engines, --ef,
// --queries and --filter-selectivity (see ann.ts); `hnsw-profile` takes --part, --ef, --queries, --passes;
// `server --part compat` measures only Quiver's own route against its Qdrant- and Chroma-compatible ones;
// `images --part ingest --ingest N` times only `quiver ingest` of N generated images.
// The comparisons tune every engine on one part of the queries and score it on the rest (split.ts).
// `scale` takes --n, --dim, --queries, --engines, --originals disk, --build-threads N, --lean, --clusters and --m (see scale.ts); `scale --part checkpoint` measures
// write latency during checkpoints alone, with --repeats and --baseline DIR (see scale-checkpoint.ts);
// `scale --part ceiling` the share of a capped memory records can use (scale-ceiling.ts); `scale --part build` the graph build with one thread and with every core, with --repeats (scale-build.ts);
// `cluster-storage` takes --n, --dim, --repeats. `threads` (also `scale --part threads`) takes --n, --dim,
// --queries, --repeats, --threads 0,1,2, --ef 16,128 and --part handoff,embedded,server (see threads.ts).

import { runKernelBench } from "./kernels.js";
import { runAnnBench, type AnnBenchOptions } from "./ann.js";
import { runTextBench } from "./text.js";
import { runServerBench } from "./server.js";
import { runHnswProfile } from "./hnsw-profile.js";
import { runDocsQaBench } from "./docs-qa.js";
import { runImageBench } from "./images.js";
import { runConsoleBench } from "./console.js";
import { runDocsQaIngestBench } from "./docs-qa-ingest.js";
import { runDocsQaChunksBench } from "./docs-qa-chunks.js";
import { runRuntimesBench } from "./runtimes.js";
import { runSparseBench } from "./sparse.js";
import { runBrowserBench } from "./browser.js";
import { runScaleBench } from "./scale.js";
import { runThreadsBench } from "./threads.js";
import { runCheckpointBench } from "./scale-checkpoint.js";
import { runBuildBench } from "./scale-build.js";
import { runCeilingBench } from "./scale-ceiling.js";
import { runClusterBench } from "./cluster.js";
import { runClusterStorageBench } from "./cluster-storage.js";

/** The command line: the ANN bench's options plus what the other sub-commands take. */
interface BenchArgs extends AnnBenchOptions {
  command: string;
  repeats?: number;
  parts?: string[];
  passes?: number;
  perClass?: number;
  ingest?: number;
  sizes?: number[];
  threads?: number[];
  files?: number;
  minSizes?: number[];
  records?: number;
  clients?: number;
  n?: number;
  dim?: number;
  umapSeconds?: number;
  traceDir?: string;
  baseline?: string;
  originals?: "memory" | "disk";
  buildThreads?: number;
  lean?: boolean;
  clusters?: number;
  m?: number;
}

const numberList = (s: string | undefined): number[] =>
  (s ?? "")
    .split(",")
    .filter((x) => x !== "")
    .map(Number);

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { command: "kernels", json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--data") args.data = argv[++i];
    else if (a === "--repeats") args.repeats = Number(argv[++i]);
    else if (a === "--engines") args.engines = (argv[++i] ?? "").split(",").filter((x) => x !== "");
    else if (a === "--ef") args.efs = numberList(argv[++i]);
    else if (a === "--filter-selectivity") args.selectivities = numberList(argv[++i]);
    else if (a === "--queries") args.queries = Number(argv[++i]);
    else if (a === "--child") args.child = argv[++i];
    else if (a === "--interleave") args.interleave = true;
    else if (a === "--part") args.parts = (argv[++i] ?? "").split(",").filter((x) => x !== "");
    else if (a === "--passes") args.passes = Number(argv[++i]);
    else if (a === "--per-class") args.perClass = Number(argv[++i]);
    else if (a === "--ingest") args.ingest = Number(argv[++i]);
    else if (a === "--sizes") args.sizes = numberList(argv[++i]);
    else if (a === "--threads") args.threads = numberList(argv[++i]);
    else if (a === "--files") args.files = Number(argv[++i]);
    else if (a === "--min-size") args.minSizes = numberList(argv[++i]);
    else if (a === "--records") args.records = Number(argv[++i]);
    else if (a === "--clients") args.clients = Number(argv[++i]);
    else if (a === "--n") args.n = Number(argv[++i]);
    else if (a === "--dim") args.dim = Number(argv[++i]);
    else if (a === "--umap-seconds") args.umapSeconds = Number(argv[++i]);
    else if (a === "--trace") args.traceDir = argv[++i];
    else if (a === "--baseline") args.baseline = argv[++i];
    else if (a === "--originals") args.originals = argv[++i] === "disk" ? "disk" : "memory";
    else if (a === "--build-threads") args.buildThreads = Number(argv[++i]);
    else if (a === "--lean") args.lean = true;
    else if (a === "--clusters") args.clusters = Number(argv[++i]);
    else if (a === "--m") args.m = Number(argv[++i]);
    else if (!a.startsWith("-")) args.command = a;
    else throw new Error(`unknown option ${a}`);
  }
  if (args.repeats !== undefined && !(Number.isInteger(args.repeats) && args.repeats > 0)) {
    throw new Error("--repeats takes a positive integer");
  }
  return args;
}

const threadsArgs = (a: BenchArgs) => ({
  n: a.n,
  dim: a.dim,
  queries: a.queries,
  repeats: a.repeats,
  threads: a.threads,
  parts: a.parts,
  efs: a.efs,
  json: a.json,
});

/** Each sub-command and what it runs; `kernels` is the default. */
const BENCHES: Record<string, (args: BenchArgs) => Promise<void>> = {
  kernels: (a) => runKernelBench({ data: a.data, json: a.json, repeats: a.repeats }),
  ann: (a) => runAnnBench(a),
  text: (a) => runTextBench({ data: a.data, json: a.json, repeats: a.repeats }),
  server: (a) =>
    runServerBench({ data: a.data, json: a.json, repeats: a.repeats, compatOnly: a.parts?.includes("compat") }),
  "hnsw-profile": (a) =>
    runHnswProfile({ data: a.data, efs: a.efs, queries: a.queries, passes: a.passes, parts: a.parts }),
  "docs-qa": (a) => runDocsQaBench({ data: a.data, json: a.json }),
  "docs-qa-ingest": (a) =>
    runDocsQaIngestBench({ data: a.data, json: a.json, threads: a.threads, files: a.files, repeats: a.repeats }),
  "docs-qa-chunks": (a) => runDocsQaChunksBench({ data: a.data, json: a.json, minSizes: a.minSizes }),
  runtimes: (a) =>
    runRuntimesBench({ data: a.data, json: a.json, repeats: a.repeats, records: a.records, queries: a.queries }),
  browser: (a) => runBrowserBench({ json: a.json, repeats: a.repeats }),
  console: (a) =>
    runConsoleBench({
      repeats: a.repeats,
      sizes: a.sizes,
      json: a.json,
      umapSeconds: a.umapSeconds,
      traceDir: a.traceDir,
    }),
  sparse: (a) => runSparseBench({ data: a.data, json: a.json, repeats: a.repeats }),
  images: (a) =>
    runImageBench({ perClass: a.perClass, ingest: a.ingest, json: a.json, ingestOnly: a.parts?.includes("ingest") }),
  cluster: (a) => runClusterBench({ repeats: a.repeats, json: a.json, parts: a.parts, clients: a.clients }),
  threads: (a) => runThreadsBench(threadsArgs(a)),
  scale: (a) =>
    a.parts?.includes("ceiling")
      ? runCeilingBench({ dim: a.dim, originals: a.originals, buildThreads: a.buildThreads, capMiB: a.n, json: a.json })
      : a.parts?.includes("build")
        ? runBuildBench({
            n: a.n ?? 100_000,
            dim: a.dim ?? 128,
            queries: a.queries ?? 1000,
            repeats: a.repeats,
            json: a.json,
            child: a.child ? JSON.parse(a.child) : undefined,
          })
        : a.parts?.includes("threads")
          ? runThreadsBench(threadsArgs({ ...a, parts: a.parts.filter((p) => p !== "threads") }))
          : a.parts?.includes("checkpoint")
            ? runCheckpointBench({
                n: a.n ?? 200_000,
                dim: a.dim ?? 128,
                queries: 1,
                repeats: a.repeats,
                baseline: a.baseline,
                json: a.json,
                child: a.child ? JSON.parse(a.child) : undefined,
              })
            : runScaleBench({
                n: a.n,
                dim: a.dim,
                queries: a.queries,
                engines: a.engines,
                child: a.child,
                json: a.json,
                originals: a.originals,
                buildThreads: a.buildThreads,
                lean: a.lean,
                clusters: a.clusters,
                m: a.m,
              }),
  "cluster-storage": (a) => runClusterStorageBench({ n: a.n, dim: a.dim, repeats: a.repeats, json: a.json }),
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const run = BENCHES[args.command];
  if (!run) throw new Error(`unknown benchmark "${args.command}" (available: ${Object.keys(BENCHES).join(", ")})`);
  await run(args);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
