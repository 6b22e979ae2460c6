/**
 * Database basics every runtime must show, written against node:test and node:assert so the same
 * suite runs in Node (database-basics.test.ts, in memory) and in Chromium (suites bundled by
 * chromium.test.ts, in memory and on OPFS / IndexedDB): HNSW against brute force, BM25, hybrid,
 * filters, and, on a persistent directory, the same answers after a close and a reopen.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cosine } from "../../src/embed/embedder.js";
import type { OpenDatabase } from "../../src/open.js";

/** Opens the database under test; `reopenable` databases are closed and opened again on the same storage. */
export interface BasicsTarget {
  open(): Promise<OpenDatabase>;
  reopenable: boolean;
  cleanup?(): Promise<void>;
}

const DIM = 16;
const COUNT = 400;

/** Deterministic vectors (xorshift), so a failure reproduces. */
function vectors(n: number, seed: number): number[][] {
  let x = seed | 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 0xffffffff) * 2 - 1;
  };
  return Array.from({ length: n }, () => Array.from({ length: DIM }, next));
}

const WORDS = ["vector", "search", "browser", "storage", "engine", "crash", "safe", "index", "graph", "query"];

function records() {
  return vectors(COUNT, 42).map((vector, i) => ({
    id: `r${i}`,
    vector,
    payload: {
      lang: i % 3 === 0 ? "fr" : "en",
      rank: i,
      body: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} ${i % 50 === 0 ? "quiver" : ""}`,
    },
  }));
}

const SCHEMA = {
  vectors: { v: { dim: DIM, metric: "cosine" as const, index: { type: "hnsw" as const } } },
  indexes: { lang: "keyword" as const, rank: "number" as const },
  text: { body: { analyzer: "english" as const } },
};

function bruteForce(all: ReturnType<typeof records>, q: number[], k: number, keep = (_: number) => true): string[] {
  return all
    .map((r, i) => ({ id: r.id, i, s: cosine(r.vector, q) }))
    .filter((r) => keep(r.i))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((r) => r.id);
}

async function answers(db: OpenDatabase) {
  const c = await db.collection("docs");
  const q = vectors(1, 7)[0];
  return {
    count: await c.count(),
    // Exact, so the comparison across a reopen does not depend on the graph's approximation.
    vector: (await c.query({ vector: q, limit: 10, exact: true })).hits.map((h) => h.id),
    strategy: (await c.query({ vector: q, limit: 10 })).plan.strategy,
    text: (await c.query({ text: "quiver", limit: 10 })).hits.map((h) => h.id),
    filtered: (await c.query({ vector: q, filter: { lang: "fr" }, limit: 5 })).hits.map((h) => h.id),
  };
}

export function databaseBasics(label: string, target: BasicsTarget): void {
  describe(`database basics: ${label}`, () => {
    const all = records();

    it("HNSW answers like brute force (recall@10 >= 0.9 over 20 queries), a stored vector finds itself", async () => {
      const db = await target.open();
      try {
        const c = await db.createCollection("docs", SCHEMA);
        await c.upsert(all);
        let found = 0;
        const queries = vectors(20, 99);
        for (const q of queries) {
          const { hits, plan } = await c.query({ vector: q, limit: 10 });
          assert.equal(plan.strategy, "hnsw");
          const truth = new Set(bruteForce(all, q, 10));
          found += hits.filter((h) => truth.has(h.id)).length;
        }
        assert.ok(found / 200 >= 0.9, `recall@10 ${found / 200}`);
        assert.equal((await c.query({ vector: all[123].vector, limit: 1 })).hits[0].id, "r123");
      } finally {
        await db.close();
      }
    });

    it("BM25 ranks the records holding a rare word, and only those", async () => {
      const db = await target.open();
      try {
        const { hits } = await (await db.collection("docs")).query({ text: "quiver", limit: 20 });
        const expected = all.filter((r) => r.payload.body.includes("quiver")).map((r) => r.id);
        assert.deepEqual(hits.map((h) => h.id).sort(), expected.sort());
      } finally {
        await db.close();
      }
    });

    it("hybrid fuses text and vector: the text matches rank first, then vector neighbours", async () => {
      const db = await target.open();
      try {
        const q = all[50].vector;
        const { hits } = await (await db.collection("docs")).query({ vector: q, text: "quiver", limit: 5 });
        assert.equal(hits[0].id, "r50", "r50 matches both the vector and the word");
        assert.ok(hits.length === 5);
      } finally {
        await db.close();
      }
    });

    it("filters: a keyword and a range filter select exactly the matching records", async () => {
      const db = await target.open();
      try {
        const c = await db.collection("docs");
        const q = vectors(1, 5)[0];
        const { hits } = await c.query({ vector: q, filter: { lang: "fr", rank: { $lt: 100 } }, limit: 10 });
        const expected = bruteForce(all, q, 10, (i) => i % 3 === 0 && i < 100);
        assert.deepEqual(
          hits.map((h) => h.id),
          expected,
        );
        assert.equal(await c.count({ lang: "fr" }), all.filter((r) => r.payload.lang === "fr").length);
      } finally {
        await db.close();
      }
    });

    if (target.reopenable) {
      it("answers the same after close and reopen, and after a delete that was acknowledged", async () => {
        let db = await target.open();
        const before = await answers(db);
        await (await db.collection("docs")).delete(["r0"]);
        await db.close();
        db = await target.open();
        try {
          const after = await answers(db);
          assert.equal(after.count, before.count - 1);
          assert.deepEqual(
            after.text,
            before.text.filter((id) => id !== "r0"),
          );
          assert.deepEqual(
            after.vector.filter((id) => before.vector.includes(id)),
            before.vector.filter((id) => id !== "r0"),
          );
          assert.equal(after.strategy, "hnsw");
          assert.deepEqual(
            after.filtered,
            before.filtered.filter((id) => id !== "r0"),
          );
        } finally {
          await db.close();
        }
      });
    }

    it("cleans up", async () => {
      await target.cleanup?.();
    });
  });
}
