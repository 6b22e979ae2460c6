/**
 * The cluster's serving path in one process (src/cluster/node.ts, router.ts, merge.ts): three nodes
 * on the process-local coordinator and a memory object store, peers called through JSON. Every
 * answer is compared with one embedded database holding the same records (upserted in id order, so
 * its tie-breaks by slot are the router's by id): exact vector, filtered, paged, grouped and sparse
 * queries, and RRF fusion of a dense and a sparse vector over the merged per-source lists.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { QueryRequest } from "../../src/api/query.js";
import type { CollectionApi, DatabaseApi, RecordInput } from "../../src/api/types.js";
import { rendezvous, shardLog, shardOf } from "../../src/cluster/shard-map.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import type { CollectionSchema } from "../../src/core/schema/schema.js";
import { seededRandom } from "../../src/core/util/prng.js";
import { open } from "../../src/index.js";
import { InProcessCluster } from "../support/cluster-in-process.js";

const SCHEMA: CollectionSchema = {
  vectors: { dense: { dim: 8, metric: "cosine" }, terms: { kind: "sparse" } },
  indexes: { group: "number" },
};
const SHARDS = 4;

function records(n: number, seed: number): RecordInput[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const indices = [...new Set(Array.from({ length: 4 }, () => Math.floor(rand() * 40)))].sort((a, b) => a - b);
    return {
      id: `r${String(i).padStart(3, "0")}`,
      vectors: {
        dense: Array.from({ length: 8 }, () => Math.fround(rand() * 2 - 1)),
        terms: { indices, values: indices.map(() => Math.fround(rand() + 0.1)) },
      },
      payload: { group: i % 7, n: i },
    };
  });
}

/** The per-shard seqs a cluster write acknowledges with (beyond the API's own result). */
function seqsOf(ack: object): Record<string, number> {
  const seqs = (ack as { seqs?: Record<string, number> }).seqs;
  assert.ok(seqs, "a cluster write returns its seqs");
  return seqs;
}

const rand = seededRandom(99);
const queryVector = () => Array.from({ length: 8 }, () => rand() * 2 - 1);
const sparseQuery = { indices: [3, 7, 11, 20, 33], values: [1, 0.5, 0.8, 0.3, 1.2] };

describe("a three-node cluster in one process", () => {
  const cluster = new InProcessCluster({ leaseTtlMs: 1500, replicas: 2 });
  let one: DatabaseApi;
  let oneDocs: CollectionApi;
  const data = records(240, 7);

  before(async () => {
    for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
    one = await open();
    oneDocs = await one.createCollection("docs", SCHEMA);
    await oneDocs.upsert(data);
    const docs = await cluster.db("n1").createCollection("docs", SCHEMA, { shards: SHARDS } as never);
    // Writes through two different nodes; the acknowledged seqs are the read-your-writes token.
    const a = seqsOf(await docs.upsert(data.slice(0, 120)));
    const b = seqsOf(await (await cluster.db("n2").collection("docs")).upsert(data.slice(120)));
    const minSeq: Record<string, number> = { ...a };
    for (const [shard, seq] of Object.entries(b)) minSeq[shard] = Math.max(a[shard] ?? 0, seq);
    cluster.scope = { minSeq };
  });

  after(async () => {
    await cluster.close();
    await one.close();
  });

  const both = async (req: QueryRequest, via = "n3") => {
    const docs = await cluster.db(via).collection("docs");
    return [await docs.query(req), await oneDocs.query(req)] as const;
  };

  it("reads through any node see every acknowledged write (minSeq), counted and fetched as on one node", async () => {
    for (const via of ["n1", "n2", "n3"]) {
      const docs = await cluster.db(via).collection("docs");
      assert.equal(await docs.count(), 240);
      assert.equal(await docs.count({ group: 3 }), await oneDocs.count({ group: 3 }));
      const ids = ["r005", "r200", "missing", "r117"];
      assert.deepEqual(await docs.get(ids, { withVectors: true }), await oneDocs.get(ids, { withVectors: true }));
    }
  });

  it("merged exact top k equals one node's: plain, filtered, paged, grouped, sparse", async () => {
    const requests: QueryRequest[] = [
      { vector: { dense: queryVector() }, limit: 10, exact: true },
      { vector: { dense: queryVector() }, limit: 7, exact: true, filter: { group: { $in: [1, 4] } } },
      { vector: { dense: queryVector() }, limit: 5, offset: 6, exact: true, withVectors: true },
      { vector: { dense: queryVector() }, limit: 5, exact: true, groupBy: "group" },
      { vector: { terms: sparseQuery }, limit: 10 },
    ];
    for (const req of requests) {
      const [merged, single] = await both(req);
      assert.deepEqual(
        merged.hits.map((h) => [h.id, h.score, h.group, h.payload, h.vectors]),
        single.hits.map((h) => [h.id, h.score, h.group, h.payload, h.vectors]),
        JSON.stringify(req),
      );
      assert.equal(merged.plan.candidates, single.plan.candidates, "candidates summed over the shards");
    }
  });

  it("RRF fusion over the merged per-source lists equals fusion on one node", async () => {
    for (const [limit, offset, depth] of [
      [10, 0, 20],
      [5, 3, 8],
      [12, 0, undefined],
    ] as const) {
      const req: QueryRequest = {
        vector: { dense: queryVector(), terms: sparseQuery },
        fusion: { method: "rrf", depth, weights: { vector: 1.5 } },
        limit,
        offset,
        explain: true,
      };
      const [merged, single] = await both(req);
      assert.ok(merged.hits.length === limit);
      assert.deepEqual(
        merged.hits.map((h) => [h.id, h.score, h.explain]),
        single.hits.map((h) => [h.id, h.score, h.explain]),
      );
      assert.equal(merged.plan.fusion, single.plan.fusion);
    }
  });

  it("a fused query grouped by a field is refused on several shards, naming the field", async () => {
    const docs = await cluster.db("n1").collection("docs");
    await assert.rejects(
      docs.query({ vector: { dense: queryVector(), terms: sparseQuery }, groupBy: "group" }),
      (e) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems[0].path === "groupBy",
    );
  });

  it("bad records are rejected with their paths before anything is written", async () => {
    const docs = await cluster.db("n2").collection("docs");
    await assert.rejects(
      docs.upsert([
        { id: "ok", vectors: { dense: [1, 2, 3, 4, 5, 6, 7, 8] } },
        { id: "bad", vectors: { dense: [1, 2] } },
      ]),
      (e) => isQuiverError(e) && e.problems.some((p) => p.path.startsWith("records[1]")),
    );
    assert.deepEqual(await docs.get(["ok"]), []);
  });

  it("scroll pages through every shard once; delete by id and by filter count as one node does", async () => {
    const docs = await cluster.db("n1").collection("docs");
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await docs.scroll({ limit: 33, cursor, withPayload: false });
      seen.push(...page.records.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(seen.sort(), data.map((r) => r.id).sort());
    const removed = await docs.delete(["r001", "r002", "nope"]);
    assert.equal(removed.deleted, 2);
    cluster.scope = { minSeq: seqsOf(removed) };
    assert.deepEqual(await docs.get(["r001", "r002"]), []);
    const byFilter = await docs.deleteByFilter({ group: 6 });
    assert.equal(byFilter.deleted, data.filter((r) => r.payload?.group === 6).length);
    await cluster.settle();
    assert.equal(await docs.count({ group: 6 }), 0);
    await oneDocs.delete(["r001", "r002"]);
    await oneDocs.deleteByFilter({ group: 6 });
    const [merged, single] = await both({ vector: { dense: queryVector() }, limit: 10, exact: true });
    assert.deepEqual(
      merged.hits.map((h) => h.id),
      single.hits.map((h) => h.id),
    );
  });

  it("a shard no reachable node serves: 503 naming it, or with allowPartial an answer naming it", async () => {
    cluster.scope = {};
    const router = "n3";
    const queriers = ["n1", "n2", "n3"];
    const docs = await cluster.db(router).collection("docs");
    const c = { name: "docs", generation: 1 };
    const missing = [0, 1, 2, 3].filter((s) => !rendezvous(shardLog(c, s), queriers).slice(0, 2).includes(router));
    assert.ok(missing.length > 0, "some shard is served only by n1 and n2");
    cluster.cutOff.add("n1");
    cluster.cutOff.add("n2");
    try {
      const req: QueryRequest = { vector: { dense: queryVector() }, limit: 10, exact: true };
      await assert.rejects(
        docs.query(req),
        (e) => isQuiverError(e, "UNAVAILABLE") && new RegExp(`shard ${missing[0]} of "docs"`).test(e.message),
      );
      cluster.scope = { allowPartial: true };
      const partial = (await docs.query(req)) as { hits: { id: string }[]; partial?: { missingShards: number[] } };
      assert.deepEqual(partial.partial?.missingShards, missing);
      const single = await oneDocs.query({ ...req, limit: 240 });
      const expected = single.hits.filter((h) => !missing.includes(shardOf(h.id, SHARDS))).slice(0, 10);
      assert.deepEqual(
        partial.hits.map((h) => h.id),
        expected.map((h) => h.id),
      );
    } finally {
      cluster.cutOff.clear();
      cluster.scope = {};
    }
  });
});

describe("moving shards in one process", () => {
  it("adding and removing query nodes and a writer leaving: no failed query, no acknowledged write lost", async () => {
    const cluster = new InProcessCluster({ leaseTtlMs: 1000, replicas: 2 });
    try {
      for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
      const docs = await cluster.db("n1").createCollection("moving", SCHEMA, { shards: 6 } as never);
      const data = records(60, 3);
      await docs.upsert(data);
      await cluster.settle();
      let failures: string[] = [];
      let queries = 0;
      let running = true;
      const reader = (async () => {
        const via = await cluster.db("n1").collection("moving");
        while (running) {
          try {
            const r = await via.query({ vector: { dense: [1, 0, 0, 0, 0, 0, 0, 0] }, limit: 60, exact: true });
            if (r.hits.length < 60) failures.push(`only ${r.hits.length} hits`);
            queries++;
          } catch (error) {
            failures.push(String(error));
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await cluster.start("n4", ["query"]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(
        cluster.nodes
          .get("n4")
          ?.status()
          .serves.some((s) => s.ready),
        "the new node serves shards",
      );
      await cluster.stop("n2"); // a writer and query node leaves: its shards' leases are released
      await new Promise((resolve) => setTimeout(resolve, 1500));
      running = false;
      await reader;
      assert.deepEqual(failures, []);
      assert.ok(queries > 20, `${queries} queries ran during the moves`);
      // Writes through the remaining nodes reach every shard, including n2's former ones.
      const more = records(90, 4).slice(60);
      cluster.scope = { minSeq: seqsOf(await (await cluster.db("n3").collection("moving")).upsert(more)) };
      const all = await (await cluster.db("n4").collection("moving")).get([...data, ...more].map((r) => r.id));
      assert.equal(all.length, 90);
      failures = [];
    } finally {
      await cluster.close();
    }
  });
});
