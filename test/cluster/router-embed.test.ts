/**
 * Text in place of vectors on a cluster (three nodes, three shards, in one process): the node that
 * receives a request embeds it with its embedders (the deterministic test embedder here), before
 * routing, as one node embeds before writing. Upserts with a text for the vector, or with the
 * vector left to its `source` field, store the same vectors as one embedded database; a text alone
 * is embedded for a vector query, runs hybrid by default (z-score, equal to one node's, as RRF is), and the text's length is checked before anything is embedded.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { QueryRequest } from "../../src/api/query.js";
import type { CollectionApi, DatabaseApi, RecordInput } from "../../src/api/types.js";
import { DEFAULT_LIMITS } from "../../src/api/limits.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import type { CollectionSchema } from "../../src/core/schema/schema.js";
import { EmbedderRegistry } from "../../src/embed/bind.js";
import { open } from "../../src/index.js";
import { fakeEmbedder } from "../ai/fake-embedder.js";
import { InProcessCluster } from "../support/cluster-in-process.js";

const SCHEMA: CollectionSchema = {
  vectors: { text: { dim: 64, metric: "cosine", embedder: "fake", source: "body" } },
  text: { body: {} },
};
const TOPICS = ["npm proxy registry", "bread dough oven", "etcd lease shard", "vector graph search", "cluster node"];

function records(n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => {
    const body = `${TOPICS[i % TOPICS.length]} note ${i} ${TOPICS[(i * 3) % TOPICS.length].split(" ")[i % 3]}`;
    // Half give the text in place of the vector, half leave the vector to its source field.
    return i % 2 === 0
      ? { id: `e${String(i).padStart(3, "0")}`, vector: body, payload: { body } }
      : { id: `e${String(i).padStart(3, "0")}`, payload: { body } };
  });
}

describe("embedders bound on cluster nodes", () => {
  const fake = fakeEmbedder();
  const cluster = new InProcessCluster({ leaseTtlMs: 4000, replicas: 1, input: new EmbedderRegistry({ fake }) });
  let one: DatabaseApi;
  let oneDocs: CollectionApi;
  let docs: CollectionApi;
  const data = records(60);

  before(async () => {
    for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
    one = await open(undefined, { embedders: { fake: fakeEmbedder() } });
    oneDocs = await one.createCollection("notes", SCHEMA);
    await oneDocs.upsert(data);
    docs = await cluster.db("n1").createCollection("notes", SCHEMA, { shards: 3 } as never);
    const ack = (await docs.upsert(data)) as { seqs?: Record<string, number> };
    assert.ok(ack.seqs);
    cluster.scope = { minSeq: ack.seqs };
    docs = await cluster.db("n3").collection("notes");
  });

  after(async () => {
    await cluster.close();
    await one.close();
  });

  it("upserts with text for the vector, or none, store the vectors one node embeds", async () => {
    const ids = data.map((r) => r.id);
    const stored = await docs.get(ids, { withVectors: true });
    assert.equal(stored.length, data.length);
    assert.deepEqual(stored, await oneDocs.get(ids, { withVectors: true }));
  });

  it("a text alone is embedded for a vector query; RRF and z-score hybrid equal one node's", async () => {
    const requests: QueryRequest[] = [
      { text: "etcd shard lease", mode: "vector", limit: 8, exact: true },
      { vector: "bread in the oven", limit: 5, exact: true },
      { text: "npm registry proxy", fusion: { method: "rrf" }, limit: 10, exact: true, explain: true },
      { text: "graph search", mode: "text", limit: 10 },
    ];
    for (const req of requests) {
      const [merged, single] = [await docs.query(req), await oneDocs.query(req)];
      assert.ok(single.hits.length > 0);
      assert.deepEqual(
        merged.hits.map((h) => [h.id, h.score, h.explain]),
        single.hits.map((h) => [h.id, h.score, h.explain]),
        JSON.stringify(req),
      );
      assert.equal(merged.plan.strategy, single.plan.strategy, JSON.stringify(req));
    }
    // A text alone on a document collection runs hybrid, fused by z-score by default, as on one node
    // (scores to float tolerance: the shards' statistics add up in another order).
    const req: QueryRequest = { text: "cluster node", exact: true };
    const [merged, single] = [await docs.query(req), await oneDocs.query(req)];
    assert.equal(merged.plan.fusion, "zscore");
    assert.deepEqual(
      merged.hits.map((h) => h.id),
      single.hits.map((h) => h.id),
    );
    merged.hits.forEach((h, i) => {
      assert.ok(Math.abs(h.score - single.hits[i].score) < 1e-9, h.id);
    });
  });

  it("a query text over the length limit is refused before it is embedded", async () => {
    const calls = fake.calls.length;
    await assert.rejects(
      docs.query({ vector: "x".repeat(DEFAULT_LIMITS.maxQueryTextLength + 1) }),
      (e) => isQuiverError(e, "LIMIT_EXCEEDED") && e.problems[0].path === "vector",
    );
    assert.equal(fake.calls.length, calls, "nothing was embedded");
  });
});
