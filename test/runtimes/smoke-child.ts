/**
 * The runtime smoke workload, run by runtimes.test.ts under Bun and Deno: a database on disk in a
 * temp folder, a collection with an HNSW vector, a payload index and a text field; upsert, query by
 * vector + filter and by text, close, reopen, query again. Prints one JSON line of what it saw.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../../src/index.js";

const path = await mkdtemp(join(tmpdir(), "quiver-runtime-"));
const schema = {
  vectors: { v: { dim: 4, metric: "cosine" as const, index: { type: "hnsw" as const } } },
  indexes: { lang: "keyword" as const },
  text: { body: { analyzer: "english" as const } },
};
const records = [
  { id: "a", vector: [1, 0, 0, 0], payload: { lang: "en", body: "crash-safe storage engines" } },
  { id: "b", vector: [0.9, 0.1, 0, 0], payload: { lang: "fr", body: "moteurs de recherche" } },
  { id: "c", vector: [0, 1, 0, 0], payload: { lang: "en", body: "vector search in the browser" } },
];

async function queries(db: Awaited<ReturnType<typeof open>>) {
  const c = await db.collection("docs");
  const vector = await c.query({ vector: [1, 0, 0, 0], limit: 2 });
  const filtered = await c.query({ vector: [1, 0, 0, 0], filter: { lang: "en" }, limit: 2 });
  const text = await c.query({ text: "engine", limit: 2 });
  return {
    count: await c.count(),
    vector: vector.hits.map((h) => h.id),
    filtered: filtered.hits.map((h) => h.id),
    text: text.hits.map((h) => h.id),
  };
}

try {
  let db = await open(path);
  await (await db.createCollection("docs", schema)).upsert(records);
  const before = await queries(db);
  await db.close();
  db = await open(path);
  const after = await queries(db);
  await db.close();
  console.log(JSON.stringify({ before, after }));
} finally {
  await rm(path, { recursive: true, force: true });
}
