/**
 * The server's body schemas must keep up with the embedded API: every field the contract's
 * QueryRequest declares must be declared by the server's query schema (so new query options are
 * passed through on purpose, and undeclared fields are rejected rather than passed by accident);
 * and the OpenAPI document must describe the whole collection schema the database accepts, and /mcp.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bodySchemas } from "../../src/server/index.js";
import { openApiDocument } from "../../src/server/openapi.js";
import { ROUTES } from "../../src/server/routes.js";
import { toJsonSchema } from "../../src/server/schema.js";
import { DEFAULT_LIMITS, isQuiverError, open } from "../../src/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Top-level field names of an exported interface in a TypeScript source file. */
function interfaceFields(file: string, name: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const start = text.indexOf(`export interface ${name} `);
  assert.ok(start >= 0, `${name} not found in ${file}`);
  let depth = 0;
  let body = "";
  for (let i = text.indexOf("{", start); i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth === 0) break;
    if (depth === 1) body += ch;
  }
  return [...body.matchAll(/^\s*(?:readonly\s+)?(\w+)\??:/gm)].map((m) => m[1]);
}

function declared(schema: unknown): string[] {
  return Object.keys((schema as { properties: Record<string, unknown> }).properties);
}

test("the server's query schema declares every QueryRequest field of the database", () => {
  const fields = interfaceFields("src/api/query.ts", "QueryRequest");
  assert.ok(fields.includes("vector") && fields.includes("limit"), `parsed ${fields.join(", ")}`);
  const server = declared(bodySchemas(DEFAULT_LIMITS).query);
  assert.deepEqual(
    fields.filter((f) => !server.includes(f)),
    [],
    "add them to src/server/bodies.ts (query)",
  );
  assert.deepEqual(
    server.filter((f) => !fields.includes(f)),
    [],
    "the server declares query fields the database does not know",
  );
});

test("scroll and read options are declared too", () => {
  const scroll = interfaceFields("src/api/types.ts", "ScrollRequest");
  const read = interfaceFields("src/api/types.ts", "ReadOptions");
  const server = declared(bodySchemas(DEFAULT_LIMITS).scroll);
  assert.deepEqual(
    [...scroll, ...read].filter((f) => !server.includes(f)),
    [],
  );
});

/** The JSON Schema object of `properties[key]` (or of its additionalProperties, for maps). */
type Doc = { properties?: Record<string, Doc>; additionalProperties?: Doc | boolean };

function collectionDoc(): Doc {
  const body = toJsonSchema(bodySchemas(DEFAULT_LIMITS).createCollection) as Doc;
  return body.properties!.schema;
}

/** Every level of the collection schema: the TypeScript interface, its document, a full example. */
function levels(doc: Doc) {
  const vector = doc.properties!.vectors.additionalProperties as Doc;
  return [
    { type: ["src/core/schema/schema.ts", "CollectionSchema"], doc, path: "schema" },
    { type: ["src/core/schema/schema.ts", "VectorSpec"], doc: vector, path: "schema.vectors.v" },
    {
      type: ["src/core/schema/schema.ts", "VectorIndexSpec"],
      doc: vector.properties!.index,
      path: "schema.vectors.v.index",
    },
    {
      type: ["src/core/analysis/analyzer.ts", "TextFieldSpec"],
      doc: doc.properties!.text.additionalProperties as Doc,
      path: "schema.text.body",
    },
    {
      type: ["src/core/schema/schema.ts", "CollectionSchema"],
      doc: doc.properties!.bm25,
      path: "schema.bm25",
      bm25: true,
    },
  ];
}

/** A schema that sets every documented option at every level, which the database must accept. */
const FULL_SCHEMA = {
  vectors: {
    v: {
      kind: "dense",
      dim: 8,
      metric: "cosine",
      embedder: "fake",
      source: "body",
      index: { type: "hnsw", m: 8, efConstruction: 50, efSearch: 20, quantization: "int8", originals: "disk" },
    },
  },
  indexes: { lang: "keyword" },
  text: { body: { analyzer: "english", stopWords: "en", stem: true, boost: 2 } },
  bm25: { k1: 1.2, b: 0.75 },
} as const;

function at(obj: unknown, path: string): Record<string, unknown> {
  return path
    .split(".")
    .slice(1)
    .reduce((o, k) => (o as Record<string, unknown>)[k], obj) as Record<string, unknown>;
}

test("/openapi.json documents every option of the collection schema, as the types declare them", () => {
  for (const level of levels(collectionDoc())) {
    const documented = Object.keys(level.doc.properties ?? {}).sort();
    const declaredByType = level.bm25 ? ["b", "k1"] : interfaceFields(level.type[0], level.type[1]).sort();
    assert.deepEqual(documented, declaredByType, `${level.path}: the document and ${level.type[1]} differ`);
    assert.equal(level.doc.additionalProperties, false, `${level.path}: the database rejects unknown options`);
    // The example below must exercise the whole level, so the acceptance test covers every option.
    assert.deepEqual(Object.keys(at(FULL_SCHEMA, level.path)).sort(), documented, `FULL_SCHEMA misses ${level.path}`);
  }
});

test("the database accepts every documented option and rejects an undocumented one at each level", async () => {
  const db = await open(undefined);
  try {
    await db.createCollection("full", structuredClone(FULL_SCHEMA) as never);
    for (const level of levels(collectionDoc())) {
      const schema = structuredClone(FULL_SCHEMA) as unknown;
      at(schema, level.path).undocumented = 1;
      await assert.rejects(
        db.createCollection(`x${level.path.length}`, schema as never),
        (e: unknown) => isQuiverError(e) && e.problems.some((p) => p.path === `${level.path}.undocumented`),
        `${level.path}: an undocumented option must be rejected`,
      );
    }
  } finally {
    await db.close();
  }
});

test("/mcp is in the document exactly when the server mounts it", () => {
  const doc = (mcp: boolean) =>
    openApiDocument(ROUTES, bodySchemas(DEFAULT_LIMITS), DEFAULT_LIMITS, { maxBodyBytes: 1 }, { mcp }) as {
      paths: Record<string, Record<string, { requestBody?: unknown; summary?: string }>>;
    };
  assert.equal(doc(false).paths["/mcp"], undefined);
  const mcp = doc(true).paths["/mcp"];
  assert.ok(mcp?.post?.requestBody && /Model Context Protocol/.test(mcp.post.summary ?? ""));
});
