/**
 * Run by no-simd.test.ts: writes a database on disk with WebAssembly SIMD (graphs in its index
 * file), then makes SIMD unavailable as a runtime without it does (the SIMD probe fails to
 * validate) and reports what open() gives in memory and on that disk, then reopens it with SIMD
 * back. Prints one JSON line. Vectors come from a seeded generator so the test can recompute them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryDirectory, open } from "../../src/index.js";
import { startQuiverServer } from "../../src/server/index.js";
import { NO_SIMD_WORKLOAD as W, seededVectors } from "./no-simd-workload.js";

const records = seededVectors(W.count, W.dim, W.seed).map((vector, i) => ({
  id: `r${i}`,
  vector: [...vector],
  payload: { body: i % 3 === 0 ? "lighthouse keeper" : "harbour master" },
}));
const schema = {
  vectors: { v: { dim: W.dim, metric: "cosine" as const, index: { type: "hnsw" as const } } },
  text: { body: {} },
};
const queries = seededVectors(W.queries, W.dim, W.seed + 1).map((q) => [...q]);

async function answers(db: Awaited<ReturnType<typeof open>>) {
  const c = await db.collection("docs");
  const vector = [];
  for (const q of queries) vector.push((await c.query({ vector: q, limit: W.k })).hits.map((h) => h.id));
  const one = await c.query({ vector: queries[0], limit: W.k });
  const hybrid = await c.query({ vector: queries[0], text: "lighthouse", limit: W.k });
  const text = await c.query({ text: "lighthouse", limit: W.count });
  const stats = await db.stats();
  return {
    vector,
    plan: one.plan,
    hybridPlan: hybrid.plan,
    hybridHits: hybrid.hits.length,
    text: text.hits.map((h) => h.id).sort(),
    kernels: stats.kernels,
    hnswUnavailable: stats.hnswUnavailable ?? null,
    index: stats.collections[0].vectors[0].index,
  };
}

const path = await mkdtemp(join(tmpdir(), "quiver-no-simd-"));
try {
  let db = await open(path);
  await (await db.createCollection("docs", schema)).upsert(records);
  await db.close(); // checkpoints: the graph goes into an index file
  db = await open(path);
  const withSimd = { index: (await db.stats()).collections[0].vectors[0].index };
  await db.close();

  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false; // what a runtime without SIMD answers for the SIMD probe
  const warnings: string[] = [];
  const onWarning = (w: string) => warnings.push(w);

  const memDir = new MemoryDirectory();
  const mem = await open(memDir, { onWarning });
  await (await mem.createCollection("docs", schema)).upsert(records);
  const memory = await answers(mem);
  // The server app over the same database: the HTTP answer and plan are the embedded ones.
  const adminKey = "no-simd-admin-key-0123456789";
  const server = await startQuiverServer({ db: mem, dir: memDir, adminKey });
  const res = await server.app.fetch(
    new Request("http://quiver.test/v1/collections/docs/query", {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ vector: queries[0], limit: W.k }),
    }),
  );
  const served = (await res.json()) as { hits: { id: string }[]; plan: { hnswUnavailable?: string } };
  const http = { status: res.status, ids: served.hits.map((h) => h.id), plan: served.plan };
  await server.flush();
  await mem.close();

  db = await open(path, { onWarning });
  const disk = await answers(db);
  await (await db.collection("docs")).upsert([{ id: "extra", vector: queries[0], payload: { body: "new" } }]);
  await db.close();

  WebAssembly.validate = validate;
  db = await open(path);
  const reopened = await answers(db);
  await db.close();
  console.log(JSON.stringify({ withSimd, memory, http, disk, reopened, warnings }));
} finally {
  await rm(path, { recursive: true, force: true });
}
