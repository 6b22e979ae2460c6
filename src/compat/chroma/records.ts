/**
 * Chroma's record operations over a Quiver collection: add, upsert, update, get, query, count and
 * delete. A record is stored as `{ id, vector: embedding, payload: { document, metadata } }`.
 * Quiver writes whole records, so update (and upsert of an existing id) reads the record and writes
 * it back merged, not atomically with a concurrent write of the same id. Queries without a document
 * condition or an id list run as Quiver vector queries; with one, the matching records are found by
 * a scan and ranked exactly here.
 */
import { denseOnly, type Filter, type RecordOutput } from "../../api/query.js";
import type { CollectionApi, DatabaseApi, RecordInput } from "../../api/types.js";
import { matches } from "../../core/query/filter/evaluate.js";
import { parseFilter } from "../../core/query/filter/parse.js";
import { similarity } from "../distance.js";
import { Checker, type Json, unsupported } from "../shape.js";
import { chromaDistance, EMBEDDING, PLACEHOLDER_DIM } from "./collections.js";
import { type DocumentTest, translateWhere, translateWhereDocument } from "./where.js";

const PAGE = 1_000;
const INCLUDES = new Set(["documents", "embeddings", "metadatas", "distances", "uris"]);

interface RecordSet {
  ids: string[];
  embeddings?: (number[] | undefined)[];
  documents?: (string | null | undefined)[];
  metadatas?: (Json | null | undefined)[];
}

function column<T>(
  body: Json,
  key: string,
  n: number,
  check: Checker,
  item: (v: unknown, at: string) => T,
): T[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== n) {
    check.fail(key, `must be an array with one entry per id (${n})`);
    return undefined;
  }
  return v.map((x, i) => item(x, `${key}[${i}]`));
}

function recordSet(body: Json, check: Checker, needEmbeddings: boolean): RecordSet {
  const ids = check.strings(body.ids, "ids") ?? [];
  if (ids.length === 0 || ids.some((id) => id.length === 0))
    check.fail("ids", "must be a non-empty array of non-empty strings");
  if (body.uris !== undefined && body.uris !== null) throw unsupported("Chroma", "uris");
  if (typeof body.embeddings === "string") throw unsupported("Chroma", "base64-encoded embeddings");
  const embeddings = column(body, "embeddings", ids.length, check, (v, at) =>
    v === null ? undefined : check.vector(v, at),
  );
  if (needEmbeddings && !embeddings)
    throw unsupported("Chroma", "records without embeddings (Quiver's Chroma API does not run embedding functions)");
  const documents = column(body, "documents", ids.length, check, (v, at) => check.string(v, at));
  const metadatas = column(body, "metadatas", ids.length, check, (v, at) => check.object(v, at));
  return { ids, embeddings, documents, metadatas };
}

function metadataOf(m: Json | null | undefined): Json | undefined {
  if (!m) return undefined;
  // Chroma drops keys set to null.
  const out = Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null));
  return Object.keys(out).length > 0 ? out : undefined;
}

function payloadOf(document: string | null | undefined, metadata: Json | undefined): Json {
  return { ...(typeof document === "string" ? { document } : {}), ...(metadata ? { metadata } : {}) };
}

/**
 * The collection handle, re-created with the real dimension when it still has its placeholder and
 * no records (the first add fixes the dimension, as in Chroma).
 */
async function withDimension(db: DatabaseApi, c: CollectionApi, dim: number | undefined): Promise<CollectionApi> {
  const spec = c.schema.vectors[EMBEDDING];
  if (!spec || dim === undefined || spec.dim === dim || spec.dim !== PLACEHOLDER_DIM || (await c.count()) > 0) return c;
  await db.dropCollection(c.name);
  return db.createCollection(c.name, { vectors: { [EMBEDDING]: { ...spec, dim } } });
}

async function existing(c: CollectionApi, ids: string[], withVectors: boolean): Promise<Map<string, RecordOutput>> {
  const found = new Map<string, RecordOutput>();
  for (let i = 0; i < ids.length; i += PAGE)
    for (const r of await c.get(ids.slice(i, i + PAGE), { withPayload: true, withVectors })) found.set(r.id, r);
  return found;
}

async function write(c: CollectionApi, records: RecordInput[]): Promise<void> {
  for (let i = 0; i < records.length; i += PAGE) await c.upsert(records.slice(i, i + PAGE));
}

/** `add` (existing ids are left as they are, as Chroma does), `upsert` or `update`. */
export async function writeRecords(
  db: DatabaseApi,
  handle: CollectionApi,
  body: Json,
  mode: "add" | "upsert" | "update",
): Promise<void> {
  const check = new Checker();
  const set = recordSet(body, check, mode !== "update");
  check.done();
  const c = await withDimension(db, handle, set.embeddings?.find((e) => e !== undefined)?.length);
  const old = await existing(c, set.ids, mode !== "add");
  const records: RecordInput[] = [];
  set.ids.forEach((id, i) => {
    const before = old.get(id);
    if ((mode === "add" && before) || (mode === "update" && !before)) return;
    const embedding = set.embeddings?.[i] ?? before?.vectors?.[EMBEDDING];
    const document = set.documents ? set.documents[i] : (before?.payload?.document as string | undefined);
    let metadata = before?.payload?.metadata as Json | undefined;
    // Chroma merges new metadata into an existing record's, on update and on upsert alike.
    if (set.metadatas) metadata = metadataOf({ ...metadata, ...set.metadatas[i] });
    records.push({
      id,
      ...(embedding ? { vectors: { [EMBEDDING]: embedding } } : {}),
      payload: payloadOf(document, metadata),
    });
  });
  await write(c, records);
}

interface Selection {
  filter: Filter | undefined;
  document: DocumentTest | undefined;
  ids: string[] | undefined;
}

function selection(body: Json, check: Checker): Selection {
  return {
    filter: translateWhere(body.where, "where", check),
    document: translateWhereDocument(body.where_document, "where_document", check),
    ids: check.strings(body.ids, "ids"),
  };
}

/** Every record a selection keeps, in id order, stopping once `enough` are found. */
async function select(
  c: CollectionApi,
  s: Selection,
  withVectors: boolean,
  enough = Number.POSITIVE_INFINITY,
): Promise<RecordOutput[]> {
  const keep = (r: RecordOutput) => !s.document || s.document(r.payload?.document as string | undefined);
  if (s.ids) {
    const node = s.filter ? parseFilter(s.filter) : undefined;
    const found = await existing(c, [...new Set(s.ids)], withVectors);
    return [...found.values()]
      .filter((r) => (!node || matches(node, r.payload)) && keep(r))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, enough);
  }
  const out: RecordOutput[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ cursor, limit: PAGE, filter: s.filter, withPayload: true, withVectors });
    for (const r of page.records) if (keep(r) && out.length < enough) out.push(r);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && out.length < enough);
  return out;
}

function includes(body: Json, check: Checker, defaults: string[]): Set<string> {
  const inc = body.include ?? defaults;
  if (!Array.isArray(inc) || !inc.every((x) => typeof x === "string" && INCLUDES.has(x)))
    check.fail("include", `must be an array of ${[...INCLUDES].join(", ")}`);
  return new Set(Array.isArray(inc) ? (inc as string[]) : defaults);
}

function columns(records: RecordOutput[], inc: Set<string>): Json {
  return {
    ids: records.map((r) => r.id),
    embeddings: inc.has("embeddings") ? records.map((r) => r.vectors?.[EMBEDDING] ?? null) : null,
    documents: inc.has("documents") ? records.map((r) => (r.payload?.document as string | undefined) ?? null) : null,
    metadatas: inc.has("metadatas") ? records.map((r) => (r.payload?.metadata as Json | undefined) ?? null) : null,
    uris: inc.has("uris") ? records.map(() => null) : null,
    include: [...inc],
  };
}

export async function getRecords(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const s = selection(body, check);
  const limit = check.int(body.limit, "limit");
  const offset = check.int(body.offset, "offset") ?? 0;
  const inc = includes(body, check, ["documents", "metadatas"]);
  check.done();
  const found = await select(c, s, inc.has("embeddings"), limit === undefined ? undefined : offset + limit);
  return columns(found.slice(offset), inc);
}

export async function countRecords(c: CollectionApi): Promise<number> {
  return c.count();
}

export async function deleteRecords(c: CollectionApi, body: Json): Promise<void> {
  const check = new Checker();
  const s = selection(body, check);
  check.done();
  if (!s.ids && !s.document && s.filter) {
    await c.deleteByFilter(s.filter);
    return;
  }
  if (!s.ids && !s.document && !s.filter) return;
  const ids = (await select(c, s, false)).map((r) => r.id);
  for (let i = 0; i < ids.length; i += PAGE) await c.delete(ids.slice(i, i + PAGE));
}

/** Chroma's query; `schema` is the collection's when the caller already read it (a handle copies it per read). */
export async function queryRecords(c: CollectionApi, body: Json, schema = c.schema): Promise<Json> {
  const check = new Checker();
  if (body.query_texts !== undefined && body.query_texts !== null)
    throw unsupported("Chroma", "query_texts (send query_embeddings)");
  const queries = Array.isArray(body.query_embeddings)
    ? body.query_embeddings.map((q, i) => check.vector(q, `query_embeddings[${i}]`) ?? [])
    : [];
  if (queries.length === 0) check.fail("query_embeddings", "must be a non-empty array of vectors");
  const n = check.int(body.n_results, "n_results", 1) ?? 10;
  const s = selection(body, check);
  const inc = includes(body, check, ["metadatas", "documents", "distances"]);
  check.done();
  const spec = schema.vectors[EMBEDDING];
  const metric = spec?.metric ?? "l2";
  const answers: { records: RecordOutput[]; distances: number[] }[] = [];
  // With a document condition or ids, rank the selected records exactly; else Quiver's vector query.
  const pool = s.document || s.ids ? await select(c, s, true) : undefined;
  for (const q of queries) {
    // A collection still at its placeholder dimension has had no add yet: nothing to find.
    if (!spec || (spec.dim === PLACEHOLDER_DIM && q.length !== PLACEHOLDER_DIM)) {
      answers.push({ records: [], distances: [] });
    } else if (pool) {
      const ranked = pool
        .map((r) => ({ r, score: similarity(metric, q, denseOnly(r.vectors?.[EMBEDDING]) ?? []) }))
        .sort((a, b) => b.score - a.score || (a.r.id < b.r.id ? -1 : 1))
        .slice(0, n);
      answers.push({ records: ranked.map((x) => x.r), distances: ranked.map((x) => chromaDistance(metric, x.score)) });
    } else {
      const r = await c.query({
        vector: { [EMBEDDING]: q },
        limit: n,
        filter: s.filter,
        // Payloads hold the documents and metadatas: read only when the answer includes them.
        withPayload: inc.has("documents") || inc.has("metadatas"),
        withVectors: inc.has("embeddings"),
      });
      answers.push({ records: r.hits, distances: r.hits.map((h) => chromaDistance(metric, h.score)) });
    }
  }
  const per = answers.map((a) => columns(a.records, inc));
  return {
    ids: per.map((p) => p.ids),
    embeddings: inc.has("embeddings") ? per.map((p) => p.embeddings) : null,
    documents: inc.has("documents") ? per.map((p) => p.documents) : null,
    metadatas: inc.has("metadatas") ? per.map((p) => p.metadatas) : null,
    uris: inc.has("uris") ? per.map((p) => p.uris) : null,
    distances: inc.has("distances") ? answers.map((a) => a.distances) : null,
    include: [...inc],
  };
}
