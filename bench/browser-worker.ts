// The Worker half of `npm run bench -- browser` (bench/browser.ts bundles it): writes a database of
// random vectors into OPFS once, then times open() on it and a first query; posts the figures.
import { open } from "../src/web.js";

type Request = { op: "write"; name: string; count: number; dim: number } | { op: "open"; name: string; dim: number };

function randomVector(dim: number): number[] {
  return Array.from({ length: dim }, () => Math.random() * 2 - 1);
}

async function write(name: string, count: number, dim: number): Promise<{ ms: number }> {
  const started = performance.now();
  const db = await open(name);
  const c = await db.createCollection("bench", { vectors: { v: { dim, metric: "cosine", index: { type: "hnsw" } } } });
  for (let i = 0; i < count; i += 1000) {
    await c.upsert(
      Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ id: `r${i + k}`, vector: randomVector(dim) })),
    );
  }
  await db.close(); // writes the final checkpoint: segments and the graph's index file
  return { ms: performance.now() - started };
}

async function timeOpen(name: string, dim: number) {
  const started = performance.now();
  const db = await open(name);
  const opened = performance.now();
  const c = await db.collection("bench");
  const { plan } = await c.query({ vector: randomVector(dim), limit: 10 });
  const queried = performance.now();
  const count = await c.count();
  await db.close();
  return { openMs: opened - started, firstQueryMs: queried - opened, count, strategy: plan.strategy };
}

self.onmessage = async (e: MessageEvent<Request>) => {
  try {
    const r = e.data;
    postMessage(r.op === "write" ? await write(r.name, r.count, r.dim) : await timeOpen(r.name, r.dim));
  } catch (err) {
    postMessage({ error: String(err) });
  }
};
