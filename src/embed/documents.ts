/**
 * Documents as chunks: ingest splits each document (text, Markdown or HTML) into chunks and stores
 * them as records `docId#n` carrying the document id, position and source, a batch of documents at
 * a time; re-ingesting a document replaces it, embedding and writing only the chunks that changed
 * (stale ones deleted); deleteDocument removes all of it; searchDocuments groups hits by document.
 * Quality checks run on every ingest, over the chunks it writes.
 */
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import type { AnalyzerName } from "../core/analysis/analyzer.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { denseOnly, type Hit, type QueryPlan, type QueryRequest } from "../api/query.js";
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
   * another document, stored or in this ingest: "keep" (default; reported), "skip" it, or "reject":
   * stop before writing it (an exact duplicate before anything is embedded or written; a near one,
   * which needs the embeddings, before its batch is written, earlier batches kept).
   */
  duplicates?: "keep" | "skip" | "reject";
  /**
   * Called after each batch of documents with the chunks and documents done so far and in total
   * (a chunk is done when it is written, left unchanged or skipped).
   */
  onProgress?: (chunksDone: number, chunksTotal: number, documentsDone: number, documentsTotal: number) => void;
  signal?: AbortSignal;
}

export interface IngestReport {
  documents: number;
  chunks: number;
  /** Chunks written (new or changed). */
  upserted: number;
  /** Chunks already stored exactly as they are now: neither embedded nor written. */
  unchanged: number;
  /** Chunks sent to the embedder on this side (a changed chunk whose text is stored reuses its vector). */
  embedded: number;
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
      minSize: opts.minSize,
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

/** A chunk as stored before this ingest: its vector is reused when the same text comes again. */
interface StoredChunk {
  id: string;
  payload: Record<string, unknown>;
  vector?: number[];
}

/** The stored chunks of these documents, by document id. */
async function storedChunksOf(coll: CollectionApi, ids: string[], vector: string): Promise<Map<string, StoredChunk[]>> {
  const byDoc = new Map<string, StoredChunk[]>();
  let cursor: string | undefined;
  do {
    const page = await coll.scroll({ cursor, limit: 1000, filter: { documentId: { $in: ids } }, withVectors: true });
    for (const r of page.records) {
      const doc = String(r.payload?.documentId);
      const list = byDoc.get(doc) ?? [];
      list.push({ id: r.id, payload: r.payload ?? {}, vector: denseOnly(r.vectors?.[vector]) });
      byDoc.set(doc, list);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return byDoc;
}

/** JSON with object keys sorted, so two payloads built in a different order compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

/** Consecutive documents whose chunks fill about one batch (a document is never split). */
function* documentWindows(chunks: PreparedChunk[], batch: number): Generator<PreparedChunk[]> {
  let window: PreparedChunk[] = [];
  for (let i = 0; i < chunks.length; i++) {
    window.push(chunks[i]);
    const docEnds = chunks[i + 1]?.payload.documentId !== chunks[i].payload.documentId;
    if (docEnds && window.length >= batch) {
      yield window;
      window = [];
    }
  }
  if (window.length > 0) yield window;
}

/**
 * Splits documents into chunks, embeds them and stores them, a batch of documents at a time (so
 * an interrupted ingest keeps what it wrote and a rerun continues). A chunk whose text is already
 * stored under the same document is not embedded again (its vector is reused) and not rewritten
 * when nothing about it changed; a document ingested again loses its stale chunks. Works on an
 * embedded or a remote database. With `duplicates: "reject"` no duplicate is ever written: exact
 * duplicates are found before anything is embedded or written, near ones as each batch is embedded,
 * and the ingest stops before the batch holding one (earlier batches stay, as after an abort).
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
  const batch = Math.max(1, opts.batch ?? 64);
  const mode = opts.duplicates ?? "keep";
  const threshold = opts.nearDuplicateThreshold ?? 0.95;
  const quality = analyzeQuality([], opts);
  const report: IngestReport = {
    documents: docs.length,
    chunks: total,
    upserted: 0,
    unchanged: 0,
    embedded: 0,
    removed: 0,
    skipped: [],
    quality,
  };
  const dup = new Map<string, string>(); // chunk id -> the id it duplicates
  const firstOfHash = new Map<string, string>(); // hash -> first chunk id of this ingest with it (for exact duplicates)
  const earlier: { documentId: string; id: string; unit: Float32Array }[] = []; // near-duplicates across this ingest
  const dupState: DuplicateState = { dup, firstOfHash, earlier, quality, threshold, mode, opts };
  // "reject": exact duplicates need no embedding, so they are all found before anything is embedded
  // or written; near ones are found as each window is embedded, before it is written.
  if (mode === "reject") {
    await markExactDuplicates(coll, chunks, dupState);
    if (dup.size > 0) throw rejected(dup, report);
  }
  let chunksDone = 0;
  let docsDone = 0;
  for (const window of documentWindows(chunks, batch)) {
    opts.signal?.throwIfAborted();
    const ids = [...new Set(window.map((c) => c.payload.documentId))];
    const stored =
      (await coll.count()) > 0 ? await storedChunksOf(coll, ids, vector) : new Map<string, StoredChunk[]>();
    // Unchanged chunks are left as they are; a stored text reuses its vector; the rest are embedded.
    const changed: PreparedChunk[] = [];
    const toEmbed: PreparedChunk[] = [];
    for (const c of window) {
      const mine = stored.get(c.payload.documentId) ?? [];
      const same = mine.find((s) => s.id === c.id);
      if (same && canonical(same.payload) === canonical(c.payload)) {
        report.unchanged++;
        continue;
      }
      const reuse = mine.find((s) => s.payload.hash === c.payload.hash && s.vector !== undefined)?.vector;
      if (reuse) c.vector = Float32Array.from(reuse);
      else if (embedder) toEmbed.push(c);
      changed.push(c);
    }
    if (embedder && toEmbed.length > 0) {
      const vs = await embedder.embed(
        toEmbed.map((c) => c.payload.text),
        opts.signal,
      );
      for (const [j, c] of toEmbed.entries()) c.vector = vs[j];
      report.embedded += toEmbed.length;
    }
    const found = analyzeQuality(
      changed.map((c) => ({ id: c.id, text: c.payload.text, vector: c.vector })),
      opts,
    );
    mergeQuality(quality, found, opts.examples ?? 5);
    await findDuplicates(coll, vector, changed, dupState);
    if (mode === "reject" && dup.size > 0) throw rejected(dup, report);
    const write = mode === "skip" ? changed.filter((c) => !dup.has(c.id)) : changed;
    const keep = new Set(write.map((c) => c.id).concat(window.filter((c) => !changed.includes(c)).map((c) => c.id)));
    const stale = ids.flatMap((d) => (stored.get(d) ?? []).map((s) => s.id).filter((id) => !keep.has(id)));
    if (mode === "skip") report.skipped.push(...changed.filter((c) => dup.has(c.id)).map((c) => c.id));
    await writeWindow(coll, vector, write, stale, report);
    chunksDone += window.length;
    docsDone += ids.length;
    opts.onProgress?.(chunksDone, total, docsDone, docs.length);
  }
  if (total === 0) opts.onProgress?.(0, 0, docs.length, docs.length);
  return report;
}

/** The error of a "reject" ingest: every duplicate found, and what earlier windows wrote. */
function rejected(dup: Map<string, string>, report: IngestReport): QuiverError {
  const written =
    report.upserted === 0
      ? "nothing was written"
      : `the ${report.upserted} chunks of earlier documents written before it are kept`;
  return QuiverError.fromProblems(
    "INVALID_ARGUMENT",
    [...dup].map(([id, of]) => ({
      path: `chunks.${id}`,
      message: `duplicates ${of} (${written}; ingest with duplicates: "keep" or "skip" to proceed)`,
    })),
  );
}

async function writeWindow(
  coll: CollectionApi,
  vector: string,
  write: PreparedChunk[],
  stale: string[],
  report: IngestReport,
): Promise<void> {
  if (write.length > 0) {
    const r = await coll.upsert(
      write.map((c) => ({
        id: c.id,
        vectors: { [vector]: c.vector ?? c.payload.text } as Record<string, ArrayLike<number>>,
        payload: c.payload,
      })),
    );
    report.upserted += r.upserted;
  }
  if (stale.length > 0) report.removed += (await coll.delete(stale)).deleted;
}

const CHECKS = ["exactDuplicates", "nearDuplicates", "emptyTexts", "shortTexts", "abnormalNorms", "outliers"] as const;

/** Adds one window's quality findings to the running total (examples up to the cap). */
function mergeQuality(into: QualityFindings, part: QualityFindings, maxExamples: number): void {
  into.records += part.records;
  for (const key of CHECKS) {
    into[key].count += part[key].count;
    into[key].examples.push(...part[key].examples.slice(0, maxExamples - into[key].examples.length));
  }
  for (const note of part.notes) if (!into.notes.includes(note)) into.notes.push(note);
}

interface DuplicateState {
  dup: Map<string, string>;
  firstOfHash: Map<string, string>;
  earlier: { documentId: string; id: string; unit: Float32Array }[];
  quality: QualityFindings;
  threshold: number;
  mode: "keep" | "skip" | "reject";
  opts: IngestOptions;
}

/** Marks the chunks that duplicate a chunk of another document, in this ingest or stored. */
async function findDuplicates(
  coll: CollectionApi,
  vector: string,
  chunks: PreparedChunk[],
  s: DuplicateState,
): Promise<void> {
  await markExactDuplicates(coll, chunks, s);
  if (chunks.length > 0 && (await coll.count()) > 0) await markStoredNearDuplicates(coll, vector, chunks, s);
  // Near-duplicates across documents of this window, which is not stored yet (earlier windows are).
  if (s.mode === "keep") return;
  s.earlier.length = 0;
  for (const c of chunks) {
    if (s.dup.has(c.id) || !c.vector) continue;
    const unit = unitVector(c.vector);
    const near = s.earlier.find((e) => e.documentId !== c.payload.documentId && dotUnit(unit, e.unit) >= s.threshold);
    if (near) s.dup.set(c.id, near.id);
    else s.earlier.push({ documentId: c.payload.documentId, id: c.id, unit });
  }
}

/** Exact duplicates (same hash) of a chunk of another document: earlier in this ingest, or stored. */
async function markExactDuplicates(coll: CollectionApi, chunks: PreparedChunk[], s: DuplicateState): Promise<void> {
  const byHash = new Map<string, PreparedChunk>();
  for (const c of chunks) {
    const first = s.firstOfHash.get(c.payload.hash);
    if (first !== undefined && !first.startsWith(`${c.payload.documentId}#`)) s.dup.set(c.id, first);
    else if (first === undefined) {
      s.firstOfHash.set(c.payload.hash, c.id);
      byHash.set(c.payload.hash, c);
    }
  }
  if (byHash.size === 0 || (await coll.count()) === 0) return;
  const max = s.opts.examples ?? 5;
  const hashes = [...byHash.keys()];
  for (let i = 0; i < hashes.length; i += 500) {
    let cursor: string | undefined;
    do {
      const page = await coll.scroll({ cursor, limit: 1000, filter: { hash: { $in: hashes.slice(i, i + 500) } } });
      for (const r of page.records) {
        const c = byHash.get(String(r.payload?.hash));
        if (c && r.payload?.documentId !== c.payload.documentId && !s.dup.has(c.id)) {
          s.dup.set(c.id, r.id);
          s.quality.exactDuplicates.count++;
          if (s.quality.exactDuplicates.examples.length < max)
            s.quality.exactDuplicates.examples.push({ id: c.id, of: r.id, text: c.payload.text.slice(0, 80) });
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}

/** Near duplicates (nearest vector at or above the threshold) among stored chunks of other documents. */
async function markStoredNearDuplicates(
  coll: CollectionApi,
  vector: string,
  chunks: PreparedChunk[],
  s: DuplicateState,
): Promise<void> {
  const max = s.opts.examples ?? 5;
  for (const c of chunks) {
    if (s.dup.has(c.id)) continue;
    const { hits } = await coll.query({
      vector: { [vector]: c.vector ?? c.payload.text } as Record<string, ArrayLike<number>>,
      limit: 1,
      filter: { documentId: { $ne: c.payload.documentId } },
      withPayload: false,
    });
    if (hits[0] && hits[0].score >= s.threshold) {
      s.dup.set(c.id, hits[0].id);
      s.quality.nearDuplicates.count++;
      if (s.quality.nearDuplicates.examples.length < max)
        s.quality.nearDuplicates.examples.push({
          id: c.id,
          of: hits[0].id,
          score: Number(hits[0].score.toFixed(4)),
          text: c.payload.text.slice(0, 80),
        });
    }
  }
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
export type DocumentSearch = QueryRequest & Pick<TextQueryInput, "query" | "using"> & { perDocument?: number };

/**
 * The best documents for a question, each with its best chunks (their payloads carry the heading
 * path and character offsets to cite). `query` (or `text`) runs hybrid on a collection with text
 * fields and a bound vector (as documentSchema makes), else what the collection supports; `mode`
 * chooses (the decision is the database's: src/database/query-mode.ts).
 * @example
 * const top = await searchDocuments(docs, { query: "how do I install it?", limit: 3 });
 */
export async function searchDocuments(
  coll: CollectionApi,
  req: DocumentSearch,
  maxTopK = 10_000,
): Promise<DocumentHit[]> {
  return (await findDocuments(coll, req, maxTopK)).documents;
}

/** searchDocuments with the plan of its last query (which says the mode that ran). */
export async function findDocuments(
  coll: CollectionApi,
  req: DocumentSearch,
  maxTopK = 10_000,
): Promise<{ documents: DocumentHit[]; plan: QueryPlan }> {
  const limit = req.limit ?? 10;
  const { perDocument = 3, query, using, ...rest } = req;
  if (query !== undefined) {
    const vector = rest.vector as ArrayLike<number> | undefined;
    if (vector !== undefined && (typeof vector === "string" || !("length" in vector)))
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "vector", message: "with query, vector must be a raw array of numbers" },
      ]);
    Object.assign(rest, textQuery(coll.schema, { query, vector, mode: rest.mode, using }));
  }
  // Chunks are fetched until `limit` documents are found (or there are no more).
  let fetch = Math.min(maxTopK, limit * perDocument * 4);
  for (;;) {
    const { hits, plan } = await coll.query({ ...rest, limit: fetch, offset: 0 });
    const groups = groupByDocument(hits, perDocument);
    if (groups.length >= limit || hits.length < fetch || fetch >= maxTopK)
      return { documents: groups.slice(0, limit), plan };
    fetch = Math.min(maxTopK, fetch * 4);
  }
}
