// The chunker's minSize, measured on the docs-qa corpus (the Markdown of the packages in node_modules)
// without a model: for each minSize, the chunks ingestDocuments would make (count, how many under 20
// characters, median length) and the BM25 rank-1 / top-3 hit rates of the judged questions
// (searchDocuments in text mode on an in-memory collection).
// `node dist/bench/main.js docs-qa-chunks --min-size 0,50,100,200`.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chunkText, open } from "../src/index.js";
import { checkVersions, corpus, score, type Judged } from "./docs-qa.js";

export interface DocsQaChunksOptions {
  data?: string;
  minSizes?: number[];
  json?: boolean;
}

export async function runDocsQaChunksBench(opts: DocsQaChunksOptions): Promise<void> {
  const modules = resolve(opts.data ?? "node_modules");
  const judged = JSON.parse(readFileSync(new URL("../../bench/docs-qa.json", import.meta.url), "utf8")) as Judged;
  checkVersions(modules, judged);
  const docs = await corpus(modules);
  const rows = [];
  for (const minSize of opts.minSizes?.length ? opts.minSizes : [0, 50, 100, 200]) {
    const db = await open();
    const coll = await db.createCollection("docs", { vectors: {}, text: { text: { analyzer: "english" } } });
    const lengths: number[] = [];
    for (const d of docs) {
      const chunks = chunkText(d.text, { minSize });
      lengths.push(...chunks.map((c) => c.text.length));
      await coll.upsert(
        chunks.map((c) => ({
          id: `${d.id}#${c.index}`,
          payload: { documentId: d.id, chunk: c.index, text: c.text },
        })),
      );
    }
    const { rank1, top3 } = await score(coll, judged, "text");
    await db.close();
    lengths.sort((a, b) => a - b);
    rows.push({
      minSize,
      chunks: lengths.length,
      under20: lengths.filter((n) => n < 20).length,
      medianLength: lengths[Math.floor(lengths.length / 2)],
      bm25Rank1: rank1,
      bm25Top3: top3,
    });
  }
  if (opts.json) {
    console.log(JSON.stringify({ documents: docs.length, rows }, null, 2));
    return;
  }
  console.log(`${docs.length} documents, ${judged.questions.length} questions (BM25, text mode)`);
  console.log("minSize  chunks  under-20  median-length  rank-1  top-3");
  for (const r of rows)
    console.log(
      `${String(r.minSize).padStart(7)}  ${String(r.chunks).padStart(6)}  ${String(r.under20).padStart(8)}  ${String(r.medianLength).padStart(13)}  ${r.bm25Rank1.toFixed(2).padStart(6)}  ${r.bm25Top3.toFixed(2).padStart(5)}`,
    );
}
