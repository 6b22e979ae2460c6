/**
 * The server's body schemas must keep up with the embedded API: every field the contract's
 * QueryRequest declares must be declared by the server's query schema (so new query options are
 * passed through on purpose, and undeclared fields are rejected rather than passed by accident).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bodySchemas } from "../../src/server/index.js";
import { DEFAULT_LIMITS } from "../../src/index.js";

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
