// Benchmark entry point: `node dist/bench/main.js [kernels|ann|text|server|hnsw-profile|docs-qa|docs-qa-ingest|docs-qa-chunks|runtimes|console|sparse|browser|scale|images] [--data DIR] [--json]
// [--repeats N]`. One case per sub-command; `kernels` is the default. `ann` also takes --engines, --ef,
// --queries and --filter-selectivity (see ann.ts); `hnsw-profile` takes --part, --ef, --queries, --passes;
// `server --part compat` measures only Quiver's own route against its Qdrant- and Chroma-compatible ones.
// The comparisons tune every engine on one part of the queries and score it on the rest (split.ts).
// `scale` takes --n, --dim, --queries and --engines (see scale.ts).

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
  n?: number;
  dim?: number;
  umapSeconds?: number;
  traceDir?: string;
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
    else if (a === "--n") args.n = Number(argv[++i]);
    else if (a === "--dim") args.dim = Number(argv[++i]);
    else if (a === "--umap-seconds") args.umapSeconds = Number(argv[++i]);
    else if (a === "--trace") args.traceDir = argv[++i];
    else if (!a.startsWith("-")) args.command = a;
    else throw new Error(`unknown option ${a}`);
  }
  if (args.repeats !== undefined && !(Number.isInteger(args.repeats) && args.repeats > 0)) {
    throw new Error("--repeats takes a positive integer");
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case "kernels":
      await runKernelBench({ data: args.data, json: args.json, repeats: args.repeats });
      break;
    case "ann":
      await runAnnBench(args);
      break;
    case "text":
      await runTextBench({ data: args.data, json: args.json, repeats: args.repeats });
      break;
    case "server":
      await runServerBench({
        data: args.data,
        json: args.json,
        repeats: args.repeats,
        compatOnly: args.parts?.includes("compat"),
      });
      break;
    case "hnsw-profile":
      await runHnswProfile({
        data: args.data,
        efs: args.efs,
        queries: args.queries,
        passes: args.passes,
        parts: args.parts,
      });
      break;
    case "docs-qa":
      await runDocsQaBench({ data: args.data, json: args.json });
      break;
    case "images":
      await runImageBench({ perClass: args.perClass, ingest: args.ingest, json: args.json });
      break;
    case "console":
      await runConsoleBench({
        repeats: args.repeats,
        sizes: args.sizes,
        json: args.json,
        umapSeconds: args.umapSeconds,
        traceDir: args.traceDir,
      });
      break;
    case "docs-qa-chunks":
      await runDocsQaChunksBench({ data: args.data, json: args.json, minSizes: args.minSizes });
      break;
    case "docs-qa-ingest":
      await runDocsQaIngestBench({
        data: args.data,
        json: args.json,
        threads: args.threads,
        files: args.files,
        repeats: args.repeats,
      });
      break;
    case "sparse":
      await runSparseBench({ data: args.data, json: args.json, repeats: args.repeats });
      break;
    case "browser":
      await runBrowserBench({ json: args.json, repeats: args.repeats });
      break;
    case "runtimes":
      await runRuntimesBench({
        data: args.data,
        json: args.json,
        repeats: args.repeats,
        records: args.records,
        queries: args.queries,
      });
      break;
    case "scale":
      await runScaleBench({
        n: args.n,
        dim: args.dim,
        queries: args.queries,
        engines: args.engines,
        child: args.child,
        json: args.json,
      });
      break;
    default:
      throw new Error(
        `unknown benchmark "${args.command}" (available: kernels, ann, text, server, hnsw-profile, docs-qa, docs-qa-ingest, docs-qa-chunks, runtimes, console, sparse, browser, scale, images)`,
      );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
