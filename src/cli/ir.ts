/**
 * The shared IR test-collection format (corpus.jsonl, queries.jsonl, qrels.tsv, optional use512/
 * vectors; see ../shared/data/ir/README.md) and one evaluation run of Quiver over it: index the
 * corpus in an in-memory database, run every judged query, score the rankings with trec_eval's
 * definitions. Used by `quiver eval ir` and by the text benchmark.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { open, QuiverError, type Collection, type Database, type TextFieldSpec, type VectorSpec } from "../index.js";
import { meanMetrics, type IrMetrics, type Qrels } from "../eval/metrics.js";

export interface IrCollection {
  name: string;
  docs: { id: string; text: string }[];
  queries: { id: string; text: string }[];
  qrels: Qrels;
  /** 512-d unit vectors (row i = docs[i]), and per query id; absent without use512/. */
  docVectors?: Float32Array;
  queryVectors?: Map<string, Float32Array>;
  dim: number;
}

export type IrMode = "bm25" | "dense" | "hybrid";

export interface IrRunOptions {
  analyzer: TextFieldSpec;
  k1: number;
  b: number;
  fusion: { method: "zscore" | "minmax" | "rrf"; k?: number; depth?: number };
  /** Ranking depth per query (MAP is computed over it): 1000 as trec_eval runs usually are. */
  depth: number;
}

function jsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [
          { path: `${path}:${i + 1}`, message: "is not a JSON object" },
        ]);
      }
    });
}

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** The collection directories under `dir`: itself when it holds corpus.jsonl, else its subfolders that do (sorted). */
export function irCollectionDirs(dir: string): string[] {
  if (!existsSync(dir))
    throw QuiverError.fromProblems("NOT_FOUND", [{ path: "--data", message: `${dir} does not exist` }]);
  if (existsSync(join(dir, "corpus.jsonl"))) return [dir];
  const subs = readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory() && existsSync(join(p, "corpus.jsonl")))
    .sort();
  if (subs.length === 0)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "--data", message: `${dir} has no corpus.jsonl, nor subfolders with one` },
    ]);
  return subs;
}

/** Reads one collection. Document text is `title + " " + text`, as the reference runs index it. */
export function loadIrCollection(dir: string): IrCollection {
  for (const f of ["corpus.jsonl", "queries.jsonl", "qrels.tsv"]) {
    if (!existsSync(join(dir, f)))
      throw QuiverError.fromProblems("NOT_FOUND", [{ path: "--data", message: `${join(dir, f)} is missing` }]);
  }
  const docs = jsonl(join(dir, "corpus.jsonl")).map((d) => ({
    id: String(d.id),
    text: `${String(d.title ?? "")} ${String(d.text ?? "")}`,
  }));
  const queries = jsonl(join(dir, "queries.jsonl")).map((q) => ({ id: String(q.id), text: String(q.text ?? "") }));
  const qrels: Qrels = new Map();
  const lines = readFileSync(join(dir, "qrels.tsv"), "utf8").split("\n");
  for (const line of lines.slice(/^query-id\t/.test(lines[0] ?? "") ? 1 : 0)) {
    if (line.trim() === "") continue;
    const [q, d, r] = line.split("\t");
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(d, Number(r));
  }
  const out: IrCollection = { name: basename(dir), docs, queries, qrels, dim: 0 };
  const vdir = join(dir, "use512");
  if (existsSync(join(vdir, "corpus.use512.f32")) && existsSync(join(vdir, "queries.use512.f32"))) {
    const dim = 512;
    const docIds = readFileSync(join(vdir, "corpus.ids.txt"), "utf8")
      .split("\n")
      .filter((x) => x !== "");
    const raw = f32(join(vdir, "corpus.use512.f32"));
    const rowOf = new Map(docIds.map((id, i) => [id, i]));
    const docVectors = new Float32Array(docs.length * dim);
    docs.forEach((d, i) => {
      const row = rowOf.get(d.id);
      if (row === undefined)
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [
          { path: join(vdir, "corpus.ids.txt"), message: `has no vector for document ${d.id}` },
        ]);
      docVectors.set(raw.subarray(row * dim, (row + 1) * dim), i * dim);
    });
    const qIds = readFileSync(join(vdir, "queries.ids.txt"), "utf8")
      .split("\n")
      .filter((x) => x !== "");
    const qraw = f32(join(vdir, "queries.use512.f32"));
    out.queryVectors = new Map(qIds.map((id, i) => [id, qraw.subarray(i * dim, (i + 1) * dim)]));
    out.docVectors = docVectors;
    out.dim = dim;
  }
  return out;
}

/** Creates a collection holding the corpus, in corpus order (so BM25 ties go to the earlier document, as in the reference). */
export async function indexIrCollection(
  db: Database,
  data: IrCollection,
  opts: IrRunOptions,
  withVectors: boolean,
): Promise<Collection> {
  const vectors: Record<string, VectorSpec> =
    withVectors && data.docVectors ? { use512: { dim: data.dim, metric: "cosine" } } : {};
  const c = await db.createCollection(data.name, {
    vectors,
    text: { text: opts.analyzer },
    bm25: { k1: opts.k1, b: opts.b },
  });
  const batch = 2000;
  for (let i = 0; i < data.docs.length; i += batch) {
    await c.upsert(
      data.docs.slice(i, i + batch).map((d, j) => ({
        id: d.id,
        payload: { text: d.text },
        ...(withVectors && data.docVectors
          ? { vector: data.docVectors.subarray((i + j) * data.dim, (i + j + 1) * data.dim) }
          : {}),
      })),
    );
  }
  return c;
}

/** Runs every judged query in one mode and returns the mean metrics. */
export async function evaluateMode(
  c: Collection,
  data: IrCollection,
  mode: IrMode,
  opts: IrRunOptions,
): Promise<IrMetrics & { queries: number; ms: number }> {
  const rankings = new Map<string, string[]>();
  const t0 = performance.now();
  for (const q of data.queries) {
    if (!data.qrels.has(q.id)) continue;
    const vector = data.queryVectors?.get(q.id);
    if (mode !== "bm25" && !vector)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: `queries[${q.id}]`, message: "has no vector in use512/queries.ids.txt" },
      ]);
    const { hits } = await c.query({
      ...(mode !== "dense" ? { text: q.text } : {}),
      ...(mode !== "bm25" ? { vector: vector! } : {}),
      ...(mode === "hybrid" ? { fusion: opts.fusion } : {}),
      limit: opts.depth,
      withPayload: false,
    });
    rankings.set(
      q.id,
      hits.map((h) => h.id),
    );
  }
  const ms = performance.now() - t0;
  return { ...meanMetrics(rankings, data.qrels), ms };
}

/** Opens an in-memory database for a run. */
export function irDatabase(): Promise<Database> {
  return open(undefined, { limits: { maxBatch: 10_000 } });
}
