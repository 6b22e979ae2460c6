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
import { s, type Schema } from "./schema.js";

const _NUMBER_ARRAY = { type: "array", items: { type: "number" } };
const FILTER_DOC = {
  type: "object",
  description: 'A filter in Quiver\'s filter language (docs/filters.md), e.g. {"lang":"en","year":{"$gte":2020}}.',
  additionalProperties: true,
};

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
  // Text in place of numbers is embedded by the database, for a vector bound to an embedder in the schema.
  const vector = s.anyOf(
    [numbers, s.string({ description: "Text to embed (vectors bound to an embedder)." })],
    "must be an array of numbers (or text, for a vector bound to an embedder)",
  );
  const ids = s.array(s.string({ description: "A record id: 1 to maxIdBytes bytes of UTF-8." }), {
    maxItems: limits.maxBatch,
  });
  const record = s.object(
    {
      id: s.string({ description: "1 to maxIdBytes bytes of UTF-8" }),
      vector,
      vectors: s.object({}, { additional: vector, description: "Named vectors: { name: [numbers] }." }),
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
        schema: s.json("The collection schema.", {
          type: "object",
          required: ["vectors"],
          properties: {
            vectors: {
              type: "object",
              additionalProperties: {
                type: "object",
                properties: {
                  dim: { type: "integer", minimum: 1, maximum: limits.maxDimension },
                  metric: { enum: ["cosine", "dot", "l2"] },
                },
              },
            },
            indexes: { type: "object", additionalProperties: { enum: ["keyword", "number", "boolean"] } },
          },
        }),
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
          [numbers, s.string(), s.object({}, { additional: vector })],
          "must be an array of numbers, or { name: array } naming one vector",
          "The query vector, or { name: vector } for a collection with several (text for a vector bound to an embedder).",
        ),
        text: s.anyOf(
          [s.string(), s.object({ query: s.string(), fields: s.array(s.string()) }, { required: ["query"] })],
          "must be a string, or { query, fields? }",
          "Full-text (BM25) query over the collection's text fields, or { query, fields } to choose fields.",
        ),
        fusion: s.json(
          "How a hybrid (text and vector) query fuses the rankings; validated by the database (docs/search.md).",
          {
            type: "object",
            properties: {
              method: { enum: ["zscore", "minmax", "rrf"] },
              k: { type: "number", description: "RRF rank constant (default 60)." },
              weights: { type: "object", properties: { text: { type: "number" }, vector: { type: "number" } } },
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
