/**
 * Text over a sharded collection in one process (three nodes, three shards, src/cluster/router.ts):
 * a text query is two phases (every shard's BM25 statistics of the query's terms, then the query
 * with their sum), so ids, order and scores equal one embedded database holding the same records
 * (upserted in id order, so its tie-breaks by slot are the router's by id): text alone, filtered,
 * restricted to a field, paged, and RRF hybrid with a vector. The test first checks that a shard's
 * own statistics do give other scores here, so the equality is the two phases' doing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { QueryRequest } from "../../src/api/query.js";
import type { CollectionApi, DatabaseApi, RecordInput } from "../../src/api/types.js";
import { shardLog } from "../../src/cluster/shard-map.js";
import type { CollectionSchema } from "../../src/core/schema/schema.js";
import { seededRandom } from "../../src/core/util/prng.js";
import { open } from "../../src/index.js";
import { InProcessCluster } from "../support/cluster-in-process.js";

const SCHEMA: CollectionSchema = {
  vectors: { dense: { dim: 8, metric: "cosine" } },
  text: { title: { boost: 2 }, body: { analyzer: "english" } },
  indexes: { lang: "keyword" },
};
const SHARDS = 3;
const WORDS = "quiver arrow vector shard merge score text search node cluster index graph storage crash safe fast"
  .split(" ")
  .concat(Array.from({ length: 24 }, (_, i) => `w${i}`));

function records(n: number, seed: number): RecordInput[] {
  const rand = seededRandom(seed);
  // Skewed word choice, so that document frequencies differ from shard to shard.
  const words = (count: number) =>
    Array.from({ length: count }, () => WORDS[Math.floor(rand() ** 2 * WORDS.length)]).join(" ");
  return Array.from({ length: n }, (_, i) => ({
    id: `t${String(i).padStart(3, "0")}`,
    vector: Array.from({ length: 8 }, () => Math.fround(rand() * 2 - 1)),
    // Some records lack a field: each field counts its own documents.
    payload: {
      ...(i % 5 !== 0 && { title: words(2 + Math.floor(rand() * 4)) }),
      ...(i % 7 !== 0 && { body: words(5 + Math.floor(rand() * 30)) }),
      lang: i % 3 === 0 ? "fr" : "en",
    },
  }));
}

describe("text and hybrid queries over three shards", () => {
  const cluster = new InProcessCluster({ leaseTtlMs: 4000, replicas: 1 }); // long leases: no member lapses on a starved CI machine
  let one: DatabaseApi;
  let oneDocs: CollectionApi;
  let docs: CollectionApi;
  const data = records(300, 11);
  const rand = seededRandom(5);

  before(async () => {
    for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
    one = await open();
    oneDocs = await one.createCollection("texts", SCHEMA);
    await oneDocs.upsert(data);
    docs = await cluster.db("n1").createCollection("texts", SCHEMA, { shards: SHARDS } as never);
    const ack = (await docs.upsert(data)) as { seqs?: Record<string, number> };
    assert.ok(ack.seqs);
    cluster.scope = { minSeq: ack.seqs };
    docs = await cluster.db("n2").collection("texts");
  });

  after(async () => {
    await cluster.close();
    await one.close();
  });

  const compare = async (req: QueryRequest) => {
    const [merged, single] = [await docs.query(req), await oneDocs.query(req)];
    assert.ok(single.hits.length > 0, `the query finds something: ${JSON.stringify(req)}`);
    assert.deepEqual(
      merged.hits.map((h) => [h.id, h.score, h.payload, h.explain]),
      single.hits.map((h) => [h.id, h.score, h.payload, h.explain]),
      JSON.stringify(req),
    );
    assert.deepEqual(merged.plan.text, single.plan.text, "fields, terms and documents matched, summed over the shards");
  };

  it("a shard scoring with its own statistics would differ from one node (the case the phases fix)", async () => {
    const req: QueryRequest = { text: "quiver shard storage", mode: "text", limit: 300 };
    const single = new Map((await oneDocs.query(req)).hits.map((h) => [h.id, h.score]));
    const collection = await cluster.db("n1").described("texts");
    let differing = 0;
    for (let shard = 0; shard < SHARDS; shard++) {
      const log = shardLog(collection, shard);
      const node = [...cluster.nodes.values()].find((n) => n.status().serves.some((s) => s.log === log && s.ready));
      assert.ok(node, `a node serves shard ${shard}`);
      const local = (await node.readShard(log, { kind: "query", request: req }, 0)) as {
        hits: { id: string; score: number }[];
      };
      for (const h of local.hits) if (h.score !== single.get(h.id)) differing++;
    }
    assert.ok(differing > 0, "shard-local BM25 scores differ from one node's");
  });

  it("text alone, filtered, in one field, paged: the same ids, order and scores as one node", async () => {
    const requests: QueryRequest[] = [
      { text: "quiver shard storage", limit: 10 },
      { text: "vector vector search graph", limit: 15, explain: true },
      { text: "crash safe index", limit: 8, filter: { lang: "en" } },
      { text: { query: "merge score node", fields: ["title"] }, limit: 10 },
      { text: { query: "cluster w3 arrow", fields: ["body"] }, limit: 6, offset: 4 },
      { text: "w20 w21 w22 w23", limit: 10 },
    ];
    for (const req of requests) await compare(req);
  });

  it("RRF hybrid of text and a vector over the merged lists equals one node's", async () => {
    for (const [limit, offset, depth] of [
      [10, 0, 30],
      [6, 2, undefined],
    ] as const) {
      await compare({
        text: "quiver fast search",
        vector: Array.from({ length: 8 }, () => rand() * 2 - 1),
        fusion: { method: "rrf", depth, weights: { text: 1.5 } },
        limit,
        offset,
        explain: true,
      });
    }
  });
});
