/**
 * Documents as chunks: ingest splits each document (text, Markdown or HTML) into chunks and stores
 * them as records `docId#n` carrying the document id, position and source; re-ingesting a
 * document replaces it (new chunks written, leftover ones deleted); deleteDocument removes all
 * of it; searchDocuments groups hits by document. Quality checks run on every ingest.
 */
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import type { AnalyzerName } from "../core/analysis/analyzer.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import type { Filter, Hit, QueryRequest } from "../api/query.js";
import { analyzeQuality, normalizeText, type QualityFindings, type QualityOptions } from "../quality/analyze.js";
import { EmbedderRegistry } from "./bind.js";
import { contentHash } from "./cache.js";
import { chunkText, type ChunkOptions } from "./chunk.js";
import type { Embedder } from "./embedder.js";
import { htmlTitle, htmlToText } from "./html.js";
import { managedEmbedder } from "./managed.js";
import { textQuery, type TextQueryInput } from "./text-query.js";

export interface DocumentInput {
  /** Stable id: ingesting the same id again replaces the document. */
  id: string;
  text: string;
  /** Default "markdown" (plain text reads the same); "html" is converted first. */
  format?: "markdown" | "text" | "html";
  title?: string;
  /** Where it came from (a path or URL), stored on every chunk. */
  source?: string;
  /** Extra payload fields for every chunk (filterable); the chunk's own fields win on a clash. */
  metadata?: Record<string, unknown>;
}

export interface IngestOptions extends ChunkOptions, QualityOptions {
  /** Named vector to fill (default: the collection's only vector, else the one bound to an embedder). */
  vector?: string;
  /** Embed on this side with this embedder (needed for a remote database whose vector is not bound). */
  embedder?: Embedder;
  /** Chunks per upsert (default 64). */
  batch?: number;
  /**
   * What to do with a chunk that duplicates (exactly, or above `nearDuplicateThreshold`) a chunk of
   * another document, stored or in this ingest: "keep" (default; reported), "skip" it, or "reject"
   * the whole ingest before anything is written.
   */
  duplicates?: "keep" | "skip" | "reject";
  /** Called after each batch with chunks written so far and in total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface IngestReport {
  documents: number;
  chunks: number;
  upserted: number;
  /** Chunks of earlier versions of these documents that were removed. */
  removed: number;
  /** Chunks skipped as duplicates (with `duplicates: "skip"`), by id. */
  skipped: string[];
  quality: QualityFindings;
}

/** The payload of every chunk record. */
export interface ChunkPayload {
  documentId: string;
  chunk: number;
  chunks: number;
  text: string;
  title?: string;
  source?: string;
  headings?: string[];
  start: number;
  end: number;
  /** SHA-256 of the normalized text: exact duplicates share it. */
  hash: string;
  [field: string]: unknown;
}

/**
 * Schema for a document collection: one vector bound to `embedder`, filled from the chunk text, and
 * the chunk text indexed for BM25 (`analyzer`, default "english"; `false` for none), so questions
 * run hybrid (see searchDocuments).
 */
export function documentSchema(
  embedder: string,
  dim: number,
  opts: { vector?: string; metric?: "cosine" | "dot" | "l2"; analyzer?: AnalyzerName | false } = {},
): CollectionSchema {
  const schema: CollectionSchema = {
    vectors: { [opts.vector ?? "embedding"]: { dim, metric: opts.metric ?? "cosine", embedder, source: "text" } },
    indexes: { documentId: "keyword", chunk: "number", hash: "keyword", source: "keyword" },
  };
  if (opts.analyzer !== false) schema.text = { text: { analyzer: opts.analyzer ?? "english" } };
  return schema;
}

function chooseVector(schema: CollectionSchema, wanted?: string): string {
  const names = Object.keys(schema.vectors);
  if (wanted !== undefined) {
    if (!Object.hasOwn(schema.vectors, wanted))
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "vector", message: `unknown vector; this collection has ${names.join(", ")}` },
      ]);
    return wanted;
  }
  if (names.length === 1) return names[0];
  const bound = names.filter((n) => schema.vectors[n].embedder !== undefined);
  if (bound.length === 1) return bound[0];
  throw QuiverError.fromProblems("INVALID_ARGUMENT", [
    { path: "vector", message: `this collection has several vectors (${names.join(", ")}): say which one to fill` },
  ]);
}

/** The embedder to use on this side: the option, or the database's own for a bound vector; null = let the database embed. */
function localEmbedderFor(
  db: DatabaseApi | null,
  schema: CollectionSchema,
  vector: string,
  opts: IngestOptions,
): Embedder | null {
  if (opts.embedder) return managedEmbedder(opts.embedder);
  const registry = (db as { embedders?: unknown } | null)?.embedders;
  if (registry instanceof EmbedderRegistry && schema.vectors[vector].embedder !== undefined)
    return registry.forVector(schema, vector);
  if (schema.vectors[vector].embedder === undefined) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path: "embedder",
        message: `vector "${vector}" is not bound to an embedder: bind it in the schema or pass { embedder }`,
      },
    ]);
  }
  return null;
}

interface PreparedChunk {
  id: string;
  payload: ChunkPayload;
  vector?: Float32Array;
}

async function prepare(docs: DocumentInput[], opts: IngestOptions): Promise<PreparedChunk[]> {
  const out: PreparedChunk[] = [];
  const seen = new Set<string>();
  for (const [i, d] of docs.entries()) {
    if (typeof d?.id !== "string" || d.id === "" || typeof d.text !== "string") {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: `documents[${i}]`, message: "must be { id: non-empty string, text: string, ... }" },
      ]);
    }
    if (seen.has(d.id))
      throw QuiverError.fromProblems("DUPLICATE_ID", [
        { path: `documents[${i}].id`, message: `document "${d.id}" appears twice` },
      ]);
    seen.add(d.id);
    const html = d.format === "html";
    const text = html ? htmlToText(d.text) : d.text;
    const title = d.title ?? (html ? htmlTitle(d.text) : undefined);
    const chunks = chunkText(text, {
      size: opts.size,
      overlap: opts.overlap,
      format: d.format === "text" ? "text" : "markdown",
    });
    for (const c of chunks) {
      const payload: ChunkPayload = {
        ...d.metadata,
        documentId: d.id,
        chunk: c.index,
        chunks: chunks.length,
        text: c.text,
        start: c.start,
        end: c.end,
        hash: await contentHash(normalizeText(c.text)),
      };
      if (title !== undefined) payload.title = title;
      if (d.source !== undefined) payload.source = d.source;
      if (c.headings.length > 0) payload.headings = c.headings;
      out.push({ id: `${d.id}#${c.index}`, payload });
    }
  }
  return out;
}

/**
 * Splits documents into chunks, embeds them and stores them; a document ingested again is
 * replaced. Works on an embedded or a remote database.
 * @example
 * const db = await open("./data", { embedders: { local: localEmbedder() } });
 * const docs = await db.createCollection("docs", documentSchema("local", 512), { ifNotExists: true });
 * const report = await ingestDocuments(db, docs, [{ id: "guide", text: markdown, source: "guide.md" }]);
 */
export async function ingestDocuments(
  db: DatabaseApi | null,
  coll: CollectionApi,
  docs: DocumentInput[],
  opts: IngestOptions = {},
): Promise<IngestReport> {
  if (!Array.isArray(docs))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "documents", message: "must be an array of { id, text }" },
    ]);
  const schema = coll.schema;
  const vector = chooseVector(schema, opts.vector);
  const embedder = localEmbedderFor(db, schema, vector, opts);
  const chunks = await prepare(docs, opts);
  const total = chunks.length;
  // Embed here when we can (so quality checks see the raw vectors, and the database reuses them).
  if (embedder) {
    const batch = Math.max(1, opts.batch ?? 64);
    for (let i = 0; i < chunks.length; i += batch) {
      opts.signal?.throwIfAborted();
      const part = chunks.slice(i, i + batch);
      const vs = await embedder.embed(
        part.map((c) => c.payload.text),
        opts.signal,
      );
      for (const [j, c] of part.entries()) c.vector = vs[j];
    }
  }
  const quality = analyzeQuality(
    chunks.map((c) => ({ id: c.id, text: c.payload.text, vector: c.vector })),
    opts,
  );
  // Duplicates of chunks of other documents: within this ingest, and against what is stored.
  const dup = new Map<string, string>(); // chunk id -> the id it duplicates
  const firstOfHash = new Map<string, PreparedChunk>();
  for (const c of chunks) {
    const first = firstOfHash.get(c.payload.hash);
    if (first && first.payload.documentId !== c.payload.documentId) dup.set(c.id, first.id);
    else if (!first) firstOfHash.set(c.payload.hash, c);
  }
  const otherDocs = (c: PreparedChunk): Filter => ({ documentId: { $ne: c.payload.documentId } });
  if ((await coll.count()) > 0) {
    const hashes = [...firstOfHash.keys()];
    for (let i = 0; i < hashes.length; i += 500) {
      let cursor: string | undefined;
      do {
        const page = await coll.scroll({ cursor, limit: 1000, filter: { hash: { $in: hashes.slice(i, i + 500) } } });
        for (const r of page.records) {
          const c = firstOfHash.get(String(r.payload?.hash));
          if (c && r.payload?.documentId !== c.payload.documentId && !dup.has(c.id)) {
            dup.set(c.id, r.id);
            quality.exactDuplicates.count++;
            if (quality.exactDuplicates.examples.length < (opts.examples ?? 5))
              quality.exactDuplicates.examples.push({ id: c.id, of: r.id, text: c.payload.text.slice(0, 80) });
          }
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    const threshold = opts.nearDuplicateThreshold ?? 0.95;
    for (const c of chunks) {
      if (dup.has(c.id)) continue;
      const q: QueryRequest = {
        vector: { [vector]: c.vector ?? c.payload.text } as Record<string, ArrayLike<number>>,
        limit: 1,
        filter: otherDocs(c),
        withPayload: false,
      };
      const { hits } = await coll.query(q);
      if (hits[0] && hits[0].score >= threshold) {
        dup.set(c.id, hits[0].id);
        quality.nearDuplicates.count++;
        if (quality.nearDuplicates.examples.length < (opts.examples ?? 5))
          quality.nearDuplicates.examples.push({
            id: c.id,
            of: hits[0].id,
            score: Number(hits[0].score.toFixed(4)),
            text: c.payload.text.slice(0, 80),
          });
      }
    }
  }
  const mode = opts.duplicates ?? "keep";
  // Near-duplicates inside this ingest, across documents (the quality pass only keeps examples).
  if (mode !== "keep") {
    const threshold = opts.nearDuplicateThreshold ?? 0.95;
    const unit = chunks.map((c) => (c.vector ? unitVector(c.vector) : null));
    for (let i = 0; i < chunks.length; i++) {
      if (dup.has(chunks[i].id) || !unit[i]) continue;
      for (let j = 0; j < i; j++) {
        if (!unit[j] || dup.has(chunks[j].id) || chunks[j].payload.documentId === chunks[i].payload.documentId)
          continue;
        if (dotUnit(unit[i]!, unit[j]!) >= threshold) {
          dup.set(chunks[i].id, chunks[j].id);
          break;
        }
      }
    }
  }
  if (mode === "reject" && dup.size > 0) {
    throw QuiverError.fromProblems(
      "INVALID_ARGUMENT",
      [...dup].map(([id, of]) => ({
        path: `chunks.${id}`,
        message: `duplicates ${of} (nothing was written; ingest with duplicates: "keep" or "skip" to proceed)`,
      })),
    );
  }
  const skipped = mode === "skip" ? [...dup.keys()] : [];
  const write = mode === "skip" ? chunks.filter((c) => !dup.has(c.id)) : chunks;
  const batch = Math.max(1, opts.batch ?? 64);
  let upserted = 0;
  for (let i = 0; i < write.length; i += batch) {
    opts.signal?.throwIfAborted();
    const part = write.slice(i, i + batch);
    const r = await coll.upsert(
      part.map((c) => ({
        id: c.id,
        vectors: { [vector]: c.vector ?? c.payload.text } as Record<string, ArrayLike<number>>,
        payload: c.payload,
      })),
    );
    upserted += r.upserted;
    opts.onProgress?.(Math.min(total, i + part.length + skipped.length), total);
  }
  if (write.length === 0) opts.onProgress?.(total, total);
  // Replace: chunks past the new end of each document (an older, longer version) go.
  let removed = 0;
  for (const d of docs) {
    const n = chunks.filter((c) => c.payload.documentId === d.id).length;
    removed += (await coll.deleteByFilter({ documentId: d.id, chunk: { $gte: n } })).deleted;
    const skippedHere = skipped.filter((id) => id.startsWith(`${d.id}#`));
    if (skippedHere.length > 0) removed += (await coll.delete(skippedHere)).deleted;
  }
  return { documents: docs.length, chunks: total, upserted, removed, skipped, quality };
}

function unitVector(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

function dotUnit(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Deletes every chunk of a document; resolves with how many there were. */
export async function deleteDocument(coll: CollectionApi, documentId: string): Promise<{ deleted: number }> {
  if (typeof documentId !== "string" || documentId === "")
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "documentId", message: "must be a non-empty string" }]);
  return coll.deleteByFilter({ documentId });
}

/** Replaces a document with a new version: the same as ingesting it again. */
export function replaceDocument(
  db: DatabaseApi | null,
  coll: CollectionApi,
  doc: DocumentInput,
  opts: IngestOptions = {},
): Promise<IngestReport> {
  return ingestDocuments(db, coll, [doc], opts);
}

export interface DocumentHit {
  documentId: string;
  /** The best chunk's score. */
  score: number;
  title?: string;
  source?: string;
  /** The document's best chunks, best first. */
  chunks: Hit[];
}

/** Groups chunk hits by document, in order of each document's best hit. */
export function groupByDocument(hits: Hit[], perDocument = 3): DocumentHit[] {
  const groups = new Map<string, DocumentHit>();
  for (const h of hits) {
    const id = typeof h.payload?.documentId === "string" ? h.payload.documentId : h.id;
    let g = groups.get(id);
    if (!g) {
      g = { documentId: id, score: h.score, chunks: [] };
      if (typeof h.payload?.title === "string") g.title = h.payload.title;
      if (typeof h.payload?.source === "string") g.source = h.payload.source;
      groups.set(id, g);
    }
    if (g.chunks.length < perDocument) g.chunks.push(h);
  }
  return [...groups.values()];
}

/** A document search: a question in words (`query`, hybrid by default) or a raw query request. */
export type DocumentSearch = QueryRequest & Pick<TextQueryInput, "query" | "mode" | "using"> & { perDocument?: number };

/**
 * The best documents for a question, each with its best chunks (their payloads carry the heading
 * path and character offsets to cite). `query` runs hybrid on a collection with text fields and a
 * bound vector (as documentSchema makes), else what the collection supports; `mode` chooses.
 * @example
 * const top = await searchDocuments(docs, { query: "how do I install it?", limit: 3 });
 */
export async function searchDocuments(
  coll: CollectionApi,
  req: DocumentSearch,
  maxTopK = 10_000,
): Promise<DocumentHit[]> {
  const limit = req.limit ?? 10;
  const { perDocument = 3, query, mode, using, ...rest } = req;
  if (query !== undefined || mode !== undefined) {
    const vector = rest.vector as ArrayLike<number> | undefined;
    if (vector !== undefined && (typeof vector === "string" || !("length" in vector)))
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "vector", message: "with query or mode, vector must be a raw array of numbers" },
      ]);
    Object.assign(rest, textQuery(coll.name, coll.schema, { query, vector, mode, using }).request);
  }
  let fetch = Math.min(maxTopK, limit * perDocument * 4);
  for (;;) {
    const { hits } = await coll.query({ ...rest, limit: fetch, offset: 0 });
    const groups = groupByDocument(hits, perDocument);
    if (groups.length >= limit || hits.length < fetch || fetch >= maxTopK) return groups.slice(0, limit);
    fetch = Math.min(maxTopK, fetch * 4);
  }
}
