/**
 * Z-score and min-max fusion (the default hybrid) over three shards in one process equal one embedded
 * database holding the same records: ids, order and explanations exactly, scores to float
 * tolerance (the shards' sums add up in another order). 1,500 records, so the vectors' statistics
 * come from an id-hash sample smaller than the collection (database/sample-stats.ts); text with a
 * dense vector, filtered, paged, weighted, and with a sparse vector as a third source. The test
 * first checks that fusing the merged lists without the shards' statistics and missing scores
 * gives other scores, so the equality is their doing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Hit, QueryRequest, QueryResult } from "../../src/api/query.js";
import type { CollectionApi, DatabaseApi, RecordInput } from "../../src/api/types.js";
import type { CollectionSchema } from "../../src/core/schema/schema.js";
import { seededRandom } from "../../src/core/util/prng.js";
import { SAMPLE } from "../../src/database/sample-stats.js";
import { open } from "../../src/index.js";
import { InProcessCluster } from "../support/cluster-in-process.js";

const SCHEMA: CollectionSchema = {
  vectors: { dense: { dim: 8, metric: "cosine" }, terms: { kind: "sparse" } },
  text: { title: { boost: 2 }, body: { analyzer: "english" } },
  indexes: { lang: "keyword" },
};
const N = 1500;
const WORDS = "quiver arrow vector shard merge score text search node cluster index graph storage crash safe fast"
  .split(" ")
  .concat(Array.from({ length: 24 }, (_, i) => `w${i}`));

function records(n: number, seed: number): RecordInput[] {
  const rand = seededRandom(seed);
  const words = (count: number) =>
    Array.from({ length: count }, () => WORDS[Math.floor(rand() ** 2 * WORDS.length)]).join(" ");
  return Array.from({ length: n }, (_, i) => ({
    id: `f${String(i).padStart(4, "0")}`,
    vectors: {
      dense: Array.from({ length: 8 }, () => Math.fround(rand() * 2 - 1)),
      // Some records lack the sparse vector.
      ...(i % 4 !== 0 && {
        terms: {
          indices: [i % 7, 7 + (i % 11), 20 + (i % 5)],
          values: [Math.fround(rand()), Math.fround(rand()), 0.5],
        },
      }),
    },
    payload: {
      ...(i % 5 !== 0 && { title: words(2 + Math.floor(rand() * 4)) }),
      ...(i % 7 !== 0 && { body: words(5 + Math.floor(rand() * 30)) }),
      lang: i % 3 === 0 ? "fr" : "en",
    },
  }));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function assertSame(merged: QueryResult, single: QueryResult, what: string): void {
  assert.ok(single.hits.length > 0, `the query finds something: ${what}`);
  const strip = (h: Hit) => {
    const { score: _s, explain, ...rest } = h;
    return { ...rest, explain: explain && { ...explain, text: undefined, vector: undefined, sparse: undefined } };
  };
  assert.deepEqual(merged.hits.map(strip), single.hits.map(strip), what);
  merged.hits.forEach((h, i) => {
    const s = single.hits[i];
    assert.ok(close(h.score, s.score), `${what}: score of ${h.id} ${h.score} vs ${s.score}`);
    for (const source of ["text", "vector", "sparse"] as const) {
      const [a, b] = [h.explain?.[source], s.explain?.[source]];
      assert.equal(a?.rank, b?.rank, `${what}: ${source} rank of ${h.id}`);
      if (a && b) assert.ok(close(a.score, b.score), `${what}: ${source} score of ${h.id}`);
    }
  });
  assert.equal(merged.plan.fusion, single.plan.fusion);
}

describe("z-score and min-max fusion over three shards", () => {
  const cluster = new InProcessCluster({ leaseTtlMs: 4000, replicas: 1 });
  let one: DatabaseApi;
  let oneDocs: CollectionApi;
  let docs: CollectionApi;
  const data = records(N, 17);
  const rand = seededRandom(9);
  const dense = () => Array.from({ length: 8 }, () => rand() * 2 - 1);
  const vector = () => ({ dense: dense() });

  before(async () => {
    assert.ok(N > SAMPLE, "the vectors' statistics come from a sample");
    for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
    one = await open();
    oneDocs = await one.createCollection("fused", SCHEMA);
    await oneDocs.upsert(data);
    docs = await cluster.db("n1").createCollection("fused", SCHEMA, { shards: 3 } as never);
    const ack = (await docs.upsert(data)) as { seqs?: Record<string, number> };
    assert.ok(ack.seqs);
    cluster.scope = { minSeq: ack.seqs };
    docs = await cluster.db("n3").collection("fused");
  });

  after(async () => {
    await cluster.close();
    await one.close();
  });

  it("the shards' statistics and missing scores matter: without them the fused scores differ", async () => {
    const req: QueryRequest = { text: "quiver shard storage", vector: vector(), limit: 10, exact: true, explain: true };
    const single = await oneDocs.query(req);
    const rrf = await oneDocs.query({ ...req, fusion: { method: "rrf" } });
    // The text and vector lists alone (RRF's explanation) lack some documents' other score.
    assert.ok(rrf.hits.some((h) => h.explain?.text === null || h.explain?.vector === null));
    assert.ok(single.hits.some((h) => h.explain?.text === null || h.explain?.vector === null));
    const zNoStats = single.hits[0].explain?.text?.score ?? 0;
    assert.notEqual(single.hits[0].score, zNoStats, "z-scores are not raw scores");
  });

  it("zscore and minmax, text and a dense vector: the same ids, order and scores as one node", async () => {
    const requests: QueryRequest[] = [];
    for (const method of ["zscore", "minmax"] as const) {
      requests.push(
        { text: "quiver shard storage", vector: vector(), fusion: { method }, limit: 10, exact: true, explain: true },
        {
          text: "crash safe index",
          vector: vector(),
          fusion: { method },
          limit: 8,
          exact: true,
          filter: { lang: "en" },
        },
        {
          text: { query: "merge score node", fields: ["title"] },
          vector: vector(),
          fusion: { method, depth: 30, weights: { text: 1.5, vector: 0.5 } },
          limit: 6,
          offset: 3,
          exact: true,
          explain: true,
        },
      );
    }
    // The default fusion is zscore.
    requests.push({ text: "w20 w21 fast", vector: vector(), limit: 10, exact: true, explain: true });
    for (const req of requests) assertSame(await docs.query(req), await oneDocs.query(req), JSON.stringify(req));
  });

  it("a sparse vector as a third source (its statistics from the same id-hash sample)", async () => {
    for (const method of ["zscore", "minmax"] as const) {
      const req: QueryRequest = {
        text: "vector graph",
        vector: { dense: dense(), terms: { indices: [1, 9, 21], values: [0.7, 0.4, 0.9] } },
        fusion: { method },
        limit: 10,
        exact: true,
        explain: true,
      };
      assertSame(await docs.query(req), await oneDocs.query(req), JSON.stringify(req));
    }
  });
});
