/**
 * The request bodies of every route, as schemas (src/server/schema.ts): they validate requests
 * and generate the OpenAPI document. Field names and paths are the embedded API's, so an error
 * names the same field over HTTP as in-process.
 *
 * Extending a body (say the database gains `text` queries) is one line here: the handler passes
 * every declared field to the database as it is, and rejects undeclared ones, so nothing reaches
 * the database by accident. test/server/schema-coverage.test.ts fails when the database's
 * QueryRequest declares a field this file does not.
 */
import type { Limits } from "../api/limits.js";
import { QUERY_MODES } from "../api/query.js";
import { ANALYZER_NAMES } from "../core/analysis/analyzer.js";
import { s, type Schema } from "./schema.js";

const _NUMBER_ARRAY = { type: "array", items: { type: "number" } };
const FILTER_DOC = {
  type: "object",
  description: 'A filter in Quiver\'s filter language (docs/filters.md), e.g. {"lang":"en","year":{"$gte":2020}}.',
  additionalProperties: true,
};

/** An object schema that, like the database's validator, rejects fields it does not list. */
function closed(
  properties: Record<string, unknown>,
  description: string,
  required?: string[],
): Record<string, unknown> {
  return { type: "object", description, properties, ...(required ? { required } : {}), additionalProperties: false };
}

/**
 * The whole CollectionSchema (src/core/schema/schema.ts) as JSON Schema. The database validates it
 * (src/database/validate.ts), which the server may not import; test/server/schema-coverage.test.ts
 * holds this document to the TypeScript types and to what the validator accepts and rejects.
 */
export function collectionSchemaDoc(limits: Limits): Record<string, unknown> {
  const intFrom = (minimum: number, maximum: number, description: string) => ({
    type: "integer",
    minimum,
    maximum,
    description,
  });
  const index = closed(
    {
      type: { enum: ["auto", "flat", "hnsw"], description: "auto (default): exact until 10,000 records, then HNSW." },
      m: intFrom(2, 128, "Graph links per node (default 16)."),
      efConstruction: intFrom(1, 10_000, "Beam width while inserting (default 200)."),
      efSearch: intFrom(1, 10_000, "Default beam width of a search (default 64)."),
      quantization: {
        enum: ["none", "int8", "binary"],
        description: "Codes the graph compares, re-ranked on full vectors (default int8).",
      },
      originals: {
        enum: ["memory", "disk"],
        description: "Where the f32 vectors live (default memory); disk needs int8 or binary quantization.",
      },
    },
    "How this vector is searched (default { type: auto }).",
  );
  const vector = closed(
    {
      kind: {
        enum: ["dense", "sparse"],
        description: "dense (default): dim numbers; sparse: index -> weight pairs, searched by dot product.",
      },
      dim: intFrom(1, limits.maxDimension, "Number of components."),
      metric: { enum: ["cosine", "dot", "l2"], description: "Similarity; every score is higher = closer." },
      embedder: {
        type: "string",
        description: "An embedder the server was started with: upsert and query then accept text for this vector.",
      },
      source: {
        type: "string",
        description: "With embedder: the payload field (dotted path) whose text fills this vector when omitted.",
      },
      index,
    },
    "A named vector: { dim, metric, ... } (dense), or { kind: sparse } alone.",
  );
  // Dense vectors need dim and metric; a sparse one is { kind: "sparse" } and nothing else.
  vector.anyOf = [
    { required: ["dim", "metric"], not: { properties: { kind: { const: "sparse" } }, required: ["kind"] } },
    { properties: { kind: { const: "sparse" } }, required: ["kind"], maxProperties: 1 },
  ];
  const textField = closed(
    {
      analyzer: {
        enum: [...ANALYZER_NAMES],
        description: "standard (default), english (stop words, stemming), alnum.",
      },
      stopWords: {
        anyOf: [{ const: false }, { type: "string" }, { type: "array", items: { type: "string" } }],
        description: "false for none, a language code (en, fr, de, ...) or your own words.",
      },
      stem: { type: "boolean", description: "Porter stemming (default true for english)." },
      boost: { type: "number", description: "Multiplies this field's BM25 score in multi-field queries (default 1)." },
    },
    "A full-text (BM25) field.",
  );
  return closed(
    {
      vectors: { type: "object", additionalProperties: vector, description: "Named vectors; may be {} with text." },
      indexes: {
        type: "object",
        additionalProperties: { enum: ["keyword", "number", "boolean"] },
        description: "Payload fields (dotted paths) indexed for filters.",
      },
      text: {
        type: "object",
        additionalProperties: textField,
        description: "Payload fields (dotted paths) indexed for full-text search.",
      },
      bm25: closed(
        {
          k1: { type: "number", minimum: 0, maximum: 100, description: "Term-frequency saturation (default 1.2)." },
          b: { type: "number", minimum: 0, maximum: 1, description: "Length normalisation (default 0.75)." },
        },
        "BM25 parameters for the text fields.",
      ),
    },
    "Needs at least one vector or one text field.",
  );
}

export interface BodySchemas {
  createCollection: Schema;
  upsert: Schema;
  ids: Schema;
  get: Schema;
  deleteByFilter: Schema;
  count: Schema;
  scroll: Schema;
  query: Schema;
  createKey: Schema;
}

/** Body schemas for the given database limits (the limits appear in the OpenAPI document). */
export function bodySchemas(limits: Limits): BodySchemas {
  const filter = s.json(
    "A filter (docs/filters.md); validated by the database, nesting at most maxFilterDepth levels.",
    FILTER_DOC,
  );
  const numbers = s.array(s.number(), { description: "A vector: finite numbers, as many as the named vector's dim." });
  // Checked in depth by the database (indices, values, duplicates, maxSparseNonZeros), with paths.
  const sparse = s.json(
    `A sparse vector: { indices, values } or { "index": weight }; unique integer indices 0 to 4294967295, finite weights, at most ${limits.maxSparseNonZeros} entries.`,
    {
      anyOf: [
        {
          type: "object",
          properties: {
            indices: { type: "array", items: { type: "integer", minimum: 0, maximum: 4294967295 } },
            values: { type: "array", items: { type: "number" } },
          },
          required: ["indices", "values"],
          additionalProperties: false,
        },
        { type: "object", propertyNames: { pattern: "^(0|[1-9][0-9]*)$" }, additionalProperties: { type: "number" } },
      ],
    },
  );
  // Text in place of numbers is embedded by the database, for a vector bound to an embedder in the schema.
  const vectorMessage =
    "must be an array of numbers, a sparse vector { indices, values }, or text for a vector bound to an embedder";
  const vector = s.anyOf(
    [numbers, s.string({ description: "Text to embed (vectors bound to an embedder)." }), sparse],
    vectorMessage,
  );
  // A query of an image collection may be a picture; words in its place are text, as above (docs/images.md).
  const picture = s.object(
    {
      base64: s.string({
        description:
          "A JPEG, PNG or WebP file in base64 (or a data: URL), embedded by the collection's image embedder.",
      }),
    },
    { required: ["base64"], unknownMessage: "unknown field (expected base64)" },
  );
  const ids = s.array(s.string({ description: "A record id: 1 to maxIdBytes bytes of UTF-8." }), {
    maxItems: limits.maxBatch,
  });
  const record = s.object(
    {
      id: s.string({ description: "1 to maxIdBytes bytes of UTF-8" }),
      vector,
      vectors: s.object(
        {},
        {
          additional: vector,
          description: "Named vectors: { name: [numbers] }, or { name: { indices, values } } for a sparse one.",
        },
      ),
      payload: s.json("A JSON object, at most maxPayloadBytes serialized and maxPayloadDepth deep.", {
        type: "object",
        additionalProperties: true,
      }),
    },
    { unknownMessage: "unknown field (expected id, vectors, payload)" },
  );
  const readOptions = {
    withPayload: s.boolean("Include payloads (default true)."),
    withVectors: s.boolean("Include vectors (default false)."),
  };
  return {
    createCollection: s.object(
      {
        schema: s.json(
          "The collection schema (docs/schema.md); validated by the database.",
          collectionSchemaDoc(limits),
        ),
        ifNotExists: s.boolean("Succeed without change when the collection exists (default false)."),
      },
      { required: ["schema"] },
    ),
    upsert: s.object({ records: s.array(record, { maxItems: limits.maxBatch }) }, { required: ["records"] }),
    ids: s.object({ ids }, { required: ["ids"] }),
    get: s.object({ ids, ...readOptions }, { required: ["ids"] }),
    deleteByFilter: s.object({ filter }, { required: ["filter"] }),
    count: s.object({ filter }),
    scroll: s.object({
      cursor: s.string({ description: "The nextCursor of the previous page." }),
      limit: s.integer({ minimum: 1, maximum: limits.maxBatch, description: "Records per page (default 100)." }),
      filter,
      ...readOptions,
    }),
    query: s.object(
      {
        vector: s.anyOf(
          [
            numbers,
            s.string(),
            s.object(
              {},
              {
                additional: s.anyOf(
                  [numbers, s.string(), sparse, picture],
                  `${vectorMessage}, or a picture { base64 } for an image collection`,
                ),
              },
            ),
          ],
          "must be an array of numbers, or { name: vector } naming one vector (or one dense and one sparse)",
          "The query vector, or { name: vector } for a collection with several (text for a vector bound to an embedder); a sparse vector is named, { terms: { indices, values } }, and one dense plus one sparse make a hybrid query.",
        ),
        text: s.anyOf(
          [s.string(), s.object({ query: s.string(), fields: s.array(s.string()) }, { required: ["query"] })],
          "must be a string, or { query, fields? }",
          "Full-text (BM25) query over the collection's text fields, or { query, fields } to choose fields.",
        ),
        mode: s.string({
          enum: [...QUERY_MODES],
          description:
            "Which sources run: vector, text (BM25) or hybrid (both, fused). Default: what the request gives; a text alone runs hybrid on a collection with text fields and a vector bound to an embedder the server has (a document collection), the text embedded as the vector.",
        }),
        fusion: s.json(
          "How a hybrid (text, dense vector, sparse vector) query fuses the rankings; validated by the database (docs/search.md).",
          {
            type: "object",
            properties: {
              method: { enum: ["zscore", "minmax", "rrf"] },
              k: { type: "number", description: "RRF rank constant (default 60)." },
              weights: {
                type: "object",
                properties: { text: { type: "number" }, vector: { type: "number" }, sparse: { type: "number" } },
              },
              depth: { type: "integer", description: "Documents taken from each source before fusing." },
            },
          },
        ),
        explain: s.boolean("Attach each hit's rank and score in each source."),
        ef: s.integer({
          minimum: 1,
          maximum: limits.maxTopK,
          description: "Beam width of a graph (HNSW) search; higher is more accurate and slower.",
        }),
        exact: s.boolean("Scan exactly even when the vector has a graph."),
        groupBy: s.string({ description: "A payload field: keep only the best hit per distinct value." }),
        filter,
        limit: s.integer({
          minimum: 1,
          maximum: limits.maxTopK,
          description: "Hits to return (default 10); limit + offset <= maxTopK.",
        }),
        offset: s.integer({ minimum: 0, maximum: limits.maxTopK, description: "Hits to skip (default 0)." }),
        ...readOptions,
      },
      { description: "Needs a vector, a text, or both (the database says which is missing)." },
    ),
    createKey: s.object(
      {
        name: s.string({ minLength: 1, maxLength: 128, description: "A label for people (the service that uses it)." }),
        scope: s.string({
          enum: ["admin", "write", "read"],
          description: "admin: everything; write: read and write; read: read only.",
        }),
        collections: s.array(s.string({ minLength: 1, maxLength: 64 }), {
          maxItems: 1000,
          description: "The collections this key reaches, by name.",
        }),
        prefix: s.string({
          maxLength: 64,
          description: "Or: the collections whose names start with this tenant prefix.",
        }),
        quota: s.object(
          {
            readUnits: s.integer({ minimum: 0, description: "Read units per UTC calendar month." }),
            writeUnits: s.integer({ minimum: 0, description: "Write units per UTC calendar month." }),
          },
          { description: "Optional monthly quota; past it requests answer 429." },
        ),
      },
      { required: ["scope"] },
    ),
  };
}
