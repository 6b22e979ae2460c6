/**
 * The compatible APIs bill what Quiver's own query route bills for the same search: the same read
 * units (work, filter checks and result size), so a key's quota does not depend on the dialect.
 * The collection is sized so that each term of the formula moves (docs/server.md): 2,000 vectors
 * of 64 dimensions scanned exactly (work past 100,000), 200 hits with payloads (a result past
 * 16 KB) and a filter checked against every payload.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { seededRandom } from "../../src/core/util/prng.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../server/helpers.js";

const DIM = 64;
const COUNT = 2000;
const LIMIT = 200;
const CHROMA = "/api/v2/tenants/default_tenant/databases/default_database/collections/billed/query";
const random = seededRandom(1414);
const vec = (): number[] => Array.from({ length: DIM }, () => Math.round(random() * 1000) / 1000);

let s: TestServer;

before(async () => {
  s = await startTestServer();
  const put = await s.call("PUT", "/v1/collections/billed", {
    key: ADMIN_KEY,
    body: { schema: { vectors: { embedding: { dim: DIM, metric: "l2" } } } },
  });
  assert.equal(put.status, 200, put.text);
  const records = Array.from({ length: COUNT }, (_, i) => ({
    id: String(i),
    vectors: { embedding: vec() },
    payload: { document: `document number ${i} of the billing test`, metadata: { n: i, tag: i % 2 ? "odd" : "even" } },
  }));
  const up = await s.call("POST", "/v1/collections/billed/upsert", { key: ADMIN_KEY, body: { records } });
  assert.equal(up.status, 200, up.text);
});

after(() => s.close());

/** The read units one query was billed, as its answer reports them. */
async function billed(path: string, body: unknown): Promise<number> {
  const r = await s.call("POST", path, { key: ADMIN_KEY, body });
  assert.equal(r.status, 200, r.text);
  return Number(r.headers.get("quiver-read-units"));
}

/** The same search through /v1, the Qdrant-compatible and the Chroma-compatible routes. */
async function threeWays(q: number[], payload: boolean, filtered: boolean): Promise<number[]> {
  return [
    await billed("/v1/collections/billed/query", {
      vector: { embedding: q },
      limit: LIMIT,
      withPayload: payload,
      ...(filtered ? { filter: { "metadata.tag": "odd" } } : {}),
    }),
    await billed("/collections/billed/points/query", {
      query: q,
      using: "embedding",
      limit: LIMIT,
      with_payload: payload,
      ...(filtered ? { filter: { must: [{ key: "metadata.tag", match: { value: "odd" } }] } } : {}),
    }),
    await billed(CHROMA, {
      query_embeddings: [q],
      n_results: LIMIT,
      include: payload ? ["documents", "metadatas", "distances"] : ["distances"],
      ...(filtered ? { where: { tag: "odd" } } : {}),
    }),
  ];
}

test("a compatible query is billed the units of the same query through /v1", async () => {
  const q = vec();
  const bare = await threeWays(q, false, false);
  const withPayload = await threeWays(q, true, false);
  const filtered = await threeWays(q, true, true);
  assert.deepEqual(bare, [bare[0], bare[0], bare[0]], `without payloads: /v1, Qdrant, Chroma billed ${bare}`);
  assert.deepEqual(withPayload, [withPayload[0], withPayload[0], withPayload[0]], `with payloads: ${withPayload}`);
  assert.deepEqual(filtered, [filtered[0], filtered[0], filtered[0]], `filtered: ${filtered}`);
  // Each case moves a different term, so a dialect that billed another size or work would differ.
  assert.ok(bare[0] >= 4, `work past 100,000 is billed (got ${bare[0]})`);
  assert.ok(withPayload[0] > bare[0], `a result past 16 KB costs more (${withPayload[0]} vs ${bare[0]})`);
  assert.ok(filtered[0] > withPayload[0], `the filter's checks are billed (${filtered[0]} vs ${withPayload[0]})`);
});
