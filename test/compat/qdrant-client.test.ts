/**
 * The Qdrant-compatible API (src/compat/qdrant/, src/server/qdrant-routes.ts) driven by the real
 * `@qdrant/js-client-rest` against a server on 127.0.0.1: collections, upsert in both forms,
 * integer and UUID ids round-tripped, filtered queries checked against brute force, scores in
 * Qdrant's convention, scroll paging, count, deletes, payload operations, named vectors, keys
 * and their scopes, metering, errors and 501s in Qdrant's shape; sparse vectors in configs,
 * points, queries and searches.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { QdrantClient } from "@qdrant/js-client-rest";
import { seededRandom } from "../../src/core/util/prng.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../server/helpers.js";

let s: TestServer;
let writer: QdrantClient;
let reader: QdrantClient;
let writeKey: string;
let readKey: string;

const DIM = 4;
const random = seededRandom(14);
const vec = (): number[] => Array.from({ length: DIM }, () => Math.round((random() * 2 - 1) * 1000) / 1000);

interface Doc {
  id: number | string;
  vector: number[];
  payload: Record<string, unknown>;
}

/** 40 points: integer ids 1..30 and 10 UUIDs, payloads with every kind of value the filters test. */
const DOCS: Doc[] = Array.from({ length: 40 }, (_, i) => ({
  id: i < 30 ? i + 1 : `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  vector: vec(),
  payload: {
    color: ["red", "green", "blue"][i % 3],
    n: i,
    ...(i % 4 === 0 ? {} : { tags: i % 4 === 1 ? [] : ["a", i % 2 ? "b" : "c"] }),
    maybe: i % 5 === 0 ? null : "x",
    meta: { lang: i % 2 ? "en" : "fr" },
  },
}));

async function key(scope: "read" | "write"): Promise<string> {
  const r = await s.call("POST", "/v1/keys", { key: ADMIN_KEY, body: { name: `qdrant-${scope}`, scope, prefix: "" } });
  assert.equal(r.status, 201, r.text);
  return r.json.key;
}

function client(apiKey: string | undefined): QdrantClient {
  // The check is exercised once on purpose (versionInfo below); here it would only race the tests.
  return new QdrantClient({ url: s.url, apiKey, checkCompatibility: false });
}

/** The status and Qdrant error message of a call expected to fail. */
async function failure(p: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; data?: { status?: { error?: string } } };
    assert.ok(typeof err.status === "number", `expected an API error, got ${String(e)}`);
    return { status: err.status, error: err.data?.status?.error ?? "" };
  }
  assert.fail("the call succeeded");
}

function cosine(a: number[], b: number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

function euclid(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((sum, x, i) => sum + (x - b[i]) ** 2, 0));
}

before(async () => {
  // Console output of the client's "api key over http" warning is expected: the test server is loopback.
  s = await startTestServer();
  writeKey = await key("write");
  readKey = await key("read");
  const warn = console.warn;
  console.warn = () => {};
  writer = client(writeKey);
  reader = client(readKey);
  console.warn = warn;
  await writer.createCollection("docs", { vectors: { size: DIM, distance: "Cosine" } });
  await writer.upsert("docs", {
    wait: true,
    points: DOCS.slice(0, 20).map((d) => ({ id: d.id, vector: d.vector, payload: d.payload })),
  });
  await writer.upsert("docs", {
    wait: true,
    batch: {
      ids: DOCS.slice(20).map((d) => d.id),
      vectors: DOCS.slice(20).map((d) => d.vector),
      payloads: DOCS.slice(20).map((d) => d.payload),
    },
  });
});

after(async () => {
  await s.close();
});

test("version info and collections: list, exists, get, create twice, delete", async () => {
  const info = await writer.versionInfo();
  assert.match(info.version, /^1\.\d+\.\d+$/);
  assert.deepEqual((await writer.getCollections()).collections, [{ name: "docs" }]);
  assert.deepEqual(await writer.collectionExists("docs"), { exists: true });
  assert.deepEqual(await writer.collectionExists("nope"), { exists: false });
  const c = await writer.getCollection("docs");
  assert.equal(c.points_count, 40);
  assert.deepEqual(
    {
      size: (c.config.params.vectors as { size: number }).size,
      distance: (c.config.params.vectors as { distance: string }).distance,
    },
    { size: DIM, distance: "Cosine" },
  );
  const again = await failure(writer.createCollection("docs", { vectors: { size: DIM, distance: "Cosine" } }));
  assert.equal(again.status, 409);
  assert.match(again.error, /already exists/);
  await writer.createCollection("tmp", {
    vectors: { size: 2, distance: "Dot" },
    hnsw_config: { m: 0 },
    on_disk_payload: true,
  });
  assert.equal(await writer.deleteCollection("tmp"), true);
  assert.deepEqual(await writer.collectionExists("tmp"), { exists: false });
  const missing = await failure(writer.getCollection("tmp"));
  assert.equal(missing.status, 404);
  assert.match(missing.error, /tmp/);
});

test("integer and UUID ids round-trip exactly, in their own types", async () => {
  const ids = [1, 30, "00000000-0000-4000-8000-000000000035"];
  const got = await writer.retrieve("docs", { ids, with_payload: true, with_vector: true });
  assert.deepEqual(
    got.map((p) => p.id),
    ids,
  );
  assert.equal(typeof got[0].id, "number");
  assert.deepEqual(got[0].payload, DOCS[0].payload);
  // Cosine vectors are stored normalised (as Qdrant does).
  const v = got[0].vector as number[];
  assert.ok(Math.abs(cosine(v, DOCS[0].vector) - 1) < 1e-6);
  // A UUID in another spelling names the same point, and comes back canonical.
  const upper = await writer.retrieve("docs", { ids: ["00000000000040008000000000000035".toUpperCase()] });
  assert.deepEqual(
    upper.map((p) => p.id),
    ["00000000-0000-4000-8000-000000000035"],
  );
  const bad = await failure(writer.retrieve("docs", { ids: [-1] }));
  assert.equal(bad.status, 400);
  const huge = await failure(writer.upsert("docs", { points: [{ id: 2 ** 53, vector: vec() }] }));
  assert.equal(huge.status, 400);
  assert.match(huge.error, /2\^53/);
});

/** Ids and scores of a brute-force cosine search over the docs a predicate keeps. */
function bruteCosine(q: number[], keep: (d: Doc) => boolean, k: number): { id: number | string; score: number }[] {
  return DOCS.filter(keep)
    .map((d) => ({ id: d.id, score: cosine(q, d.vector) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

function assertHits(got: { id: unknown; score: number }[], want: { id: unknown; score: number }[]): void {
  assert.deepEqual(
    got.map((h) => h.id),
    want.map((h) => h.id),
  );
  for (const [i, h] of got.entries())
    assert.ok(Math.abs(h.score - want[i].score) < 1e-5, `score ${h.score} vs ${want[i].score}`);
}

test("query: filters translated (must, should, must_not, min_should, match, range, is_empty, is_null, nested keys) and checked against brute force", async () => {
  const q = vec();
  const tags = (d: Doc) => (d.payload.tags as string[] | undefined) ?? [];
  const cases: { filter: Record<string, unknown>; keep: (d: Doc) => boolean }[] = [
    { filter: { must: [{ key: "color", match: { value: "red" } }] }, keep: (d) => d.payload.color === "red" },
    {
      filter: {
        must: [{ key: "n", range: { gte: 5, lt: 25 } }],
        must_not: [{ key: "color", match: { any: ["blue"] } }],
      },
      keep: (d) => (d.payload.n as number) >= 5 && (d.payload.n as number) < 25 && d.payload.color !== "blue",
    },
    {
      filter: {
        should: [
          { key: "tags", match: { value: "b" } },
          { key: "meta.lang", match: { value: "fr" } },
        ],
      },
      keep: (d) => tags(d).includes("b") || (d.payload.meta as { lang: string }).lang === "fr",
    },
    { filter: { must: [{ is_empty: { key: "tags" } }] }, keep: (d) => tags(d).length === 0 },
    { filter: { must: [{ is_null: { key: "maybe" } }] }, keep: (d) => d.payload.maybe === null },
    {
      filter: { must: [{ key: "color", match: { except: ["red", "green"] } }] },
      keep: (d) => d.payload.color === "blue",
    },
    {
      filter: {
        min_should: {
          conditions: [
            { key: "color", match: { value: "red" } },
            { key: "meta.lang", match: { value: "en" } },
            { key: "n", range: { lt: 10 } },
          ],
          min_count: 2,
        },
      },
      keep: (d) =>
        [
          d.payload.color === "red",
          (d.payload.meta as { lang: string }).lang === "en",
          (d.payload.n as number) < 10,
        ].filter(Boolean).length >= 2,
    },
    {
      filter: { must: [{ must_not: [{ key: "meta.lang", match: { value: "en" } }] }] },
      keep: (d) => (d.payload.meta as { lang: string }).lang !== "en",
    },
  ];
  for (const { filter, keep } of cases) {
    const want = bruteCosine(q, keep, 5);
    assert.ok(want.length > 0, `the case ${JSON.stringify(filter)} keeps some points`);
    const r = await reader.query("docs", { query: q, filter, limit: 5, with_payload: true });
    assert.deepEqual(
      r.points.map((p) => p.id),
      want.map((h) => h.id),
      JSON.stringify(filter),
    );
    assertHits(r.points, want);
    for (const p of r.points) assert.ok(keep({ id: p.id, vector: [], payload: p.payload as Record<string, unknown> }));
  }
});

test("query: offset, score_threshold, with_payload include list, exact and hnsw_ef, batch, groups, and the older search", async () => {
  const q = vec();
  const all = bruteCosine(q, () => true, 40);
  const page = await reader.query("docs", {
    query: { nearest: q },
    limit: 3,
    offset: 2,
    params: { exact: true, hnsw_ef: 32 },
  });
  assertHits(page.points, all.slice(2, 5));
  assert.equal(page.points[0].payload, null, "query returns no payload unless asked, as Qdrant");
  // Between two scores: Quiver scores in float32, so a threshold at a score itself could fall either side.
  const threshold = (all[6].score + all[7].score) / 2;
  const above = await reader.query("docs", { query: q, limit: 20, score_threshold: threshold });
  assertHits(
    above.points,
    all.filter((h) => h.score >= threshold),
  );
  const picked = await reader.query("docs", { query: q, limit: 1, with_payload: ["color", "meta.lang"] });
  const doc = DOCS.find((d) => d.id === all[0].id)!;
  assert.deepEqual(picked.points[0].payload, {
    color: doc.payload.color,
    meta: { lang: (doc.payload.meta as { lang: string }).lang },
  });
  const batch = await reader.queryBatch("docs", {
    searches: [
      { query: q, limit: 2 },
      { query: q, limit: 1, offset: 1 },
    ],
  });
  assertHits(batch[0].points, all.slice(0, 2));
  assertHits(batch[1].points, all.slice(1, 2));
  const groups = await reader.queryGroups("docs", { query: q, group_by: "color", group_size: 2, limit: 3 });
  assert.equal(groups.groups.length, 3);
  for (const g of groups.groups)
    assertHits(
      g.hits,
      bruteCosine(q, (d) => d.payload.color === g.id, 2),
    );
  const old = await s.call("POST", "/collections/docs/points/search", { key: readKey, body: { vector: q, limit: 3 } });
  assert.equal(old.status, 200);
  assertHits(old.json.result, all.slice(0, 3));
});

test("scroll pages with offset through every point once; count with and without a filter", async () => {
  const seen: unknown[] = [];
  let offset: number | string | undefined | null;
  let pages = 0;
  do {
    const r = await reader.scroll("docs", { limit: 7, offset: offset ?? undefined, with_payload: false });
    seen.push(...r.points.map((p) => p.id));
    offset = r.next_page_offset as number | string | null | undefined;
    pages++;
  } while (offset !== null && offset !== undefined && pages < 20);
  assert.equal(pages, 6);
  assert.deepEqual(new Set(seen), new Set(DOCS.map((d) => d.id)));
  assert.equal(seen.length, DOCS.length);
  const red = await reader.scroll("docs", {
    filter: { must: [{ key: "color", match: { value: "red" } }] },
    limit: 100,
  });
  assert.equal(red.points.length, DOCS.filter((d) => d.payload.color === "red").length);
  assert.equal(red.next_page_offset, null);
  assert.deepEqual(await reader.count("docs", { exact: true }), { count: 40 });
  assert.deepEqual(await reader.count("docs", { filter: { must: [{ key: "n", range: { gte: 35 } }] } }), { count: 5 });
  const byId = await reader.count("docs", {
    filter: { must: [{ has_id: [1, 2, 3, 999] }, { key: "n", range: { gte: 1 } }] },
  });
  assert.deepEqual(byId, { count: 2 });
});

test("payload operations: set, overwrite, delete keys, clear, by ids and by filter; vectors untouched", async () => {
  await writer.createCollection("pay", { vectors: { size: 2, distance: "Euclid" } });
  await writer.upsert("pay", {
    points: [
      { id: 1, vector: [0, 0], payload: { a: 1, b: { c: 2 } } },
      { id: 2, vector: [3, 4], payload: { a: 2 } },
    ],
  });
  await writer.setPayload("pay", { payload: { x: "new" }, points: [1] });
  await writer.deletePayload("pay", { keys: ["b.c"], points: [1] });
  await writer.overwritePayload("pay", {
    payload: { only: true },
    filter: { must: [{ key: "a", match: { value: 2 } }] },
  });
  let got = await writer.retrieve("pay", { ids: [1, 2], with_payload: true, with_vector: true });
  assert.deepEqual(got[0].payload, { a: 1, b: {}, x: "new" });
  assert.deepEqual(got[1].payload, { only: true });
  assert.deepEqual(got[1].vector, [3, 4]);
  await writer.clearPayload("pay", { points: [1, 2] });
  got = await writer.retrieve("pay", { ids: [1, 2], with_payload: true });
  assert.deepEqual(
    got.map((p) => p.payload),
    [{}, {}],
  );
  // Euclid scores are distances, ascending, and score_threshold is their upper bound.
  const r = await writer.query("pay", { query: [0, 1], limit: 2 });
  assert.deepEqual(
    r.points.map((p) => [p.id, Math.round(p.score * 1e5) / 1e5]),
    [
      [1, 1],
      [2, Math.round(euclid([0, 1], [3, 4]) * 1e5) / 1e5],
    ],
  );
  assert.deepEqual(
    (await writer.query("pay", { query: [0, 1], score_threshold: 2 })).points.map((p) => p.id),
    [1],
  );
});

test("delete by ids and by filter", async () => {
  await writer.createCollection("del", { vectors: { size: 2, distance: "Dot" } });
  await writer.upsert("del", {
    points: Array.from({ length: 10 }, (_, i) => ({ id: i, vector: [i, 1], payload: { even: i % 2 === 0 } })),
  });
  await writer.delete("del", { points: [0, 1] });
  assert.deepEqual(await writer.count("del"), { count: 8 });
  await writer.delete("del", { filter: { must: [{ key: "even", match: { value: true } }] } });
  const left = await writer.scroll("del", { limit: 100 });
  assert.deepEqual(left.points.map((p) => p.id).sort(), [3, 5, 7, 9]);
  // Dot scores are dot products.
  const q = await writer.query("del", { query: [1, 2], limit: 1 });
  assert.deepEqual([q.points[0].id, q.points[0].score], [9, 11]);
});

test("named vectors: create, upsert, query `using`, with_vector by name", async () => {
  await writer.createCollection("multi", {
    vectors: { img: { size: 2, distance: "Dot" }, txt: { size: 3, distance: "Euclid", on_disk: true } },
  });
  await writer.upsert("multi", {
    points: [
      { id: "11111111-1111-4111-8111-111111111111", vector: { img: [1, 0], txt: [0, 0, 1] }, payload: { k: 1 } },
      { id: 7, vector: { img: [0, 1], txt: [5, 5, 5] } },
    ],
  });
  const info = await writer.getCollection("multi");
  assert.deepEqual(Object.keys(info.config.params.vectors as object).sort(), ["img", "txt"]);
  const r = await writer.query("multi", { query: [0, 0, 0], using: "txt", limit: 2, with_vector: ["txt"] });
  assert.deepEqual(
    r.points.map((p) => p.id),
    ["11111111-1111-4111-8111-111111111111", 7],
  );
  assert.equal(r.points[0].score, 1);
  assert.deepEqual(r.points[0].vector, { txt: [0, 0, 1] });
  const img = await writer.query("multi", { query: [0, 2], using: "img", limit: 1 });
  assert.deepEqual([img.points[0].id, img.points[0].score], [7, 2]);
});

test("keys: api-key and Bearer work, a read key is refused on writes, no key is 401; usage is metered", async () => {
  const refused = await failure(reader.upsert("docs", { points: [{ id: 99, vector: vec() }] }));
  assert.equal(refused.status, 403);
  assert.match(refused.error, /read/);
  assert.equal((await failure(reader.delete("docs", { points: [1] }))).status, 403);
  assert.equal((await failure(reader.createCollection("x", { vectors: { size: 2, distance: "Dot" } }))).status, 403);
  assert.equal((await failure(client(undefined).getCollections())).status, 401);
  const bearer = await s.call("POST", "/collections/docs/points/count", { key: readKey, body: {} });
  assert.equal(bearer.status, 200, "Authorization: Bearer is accepted");
  assert.deepEqual(bearer.json.result, { count: 40 });
  const before = (await s.call("GET", "/v1/usage", { key: readKey })).json.keys[0];
  const r = await s.call("POST", "/collections/docs/points/query", { key: readKey, body: { query: vec(), limit: 3 } });
  assert.equal(r.status, 200);
  assert.ok(Number(r.headers.get("quiver-read-units")) >= 1, "the answer reports its read units");
  const afterUsage = (await s.call("GET", "/v1/usage", { key: readKey })).json.keys[0];
  assert.equal(afterUsage.total.readUnits - before.total.readUnits, Number(r.headers.get("quiver-read-units")));
});

test("unsupported features answer 501 naming the feature; bad input 400 in Qdrant's shape", async () => {
  const text = await failure(
    reader.query("docs", { query: vec(), filter: { must: [{ key: "color", match: { text: "re" } }] } }),
  );
  assert.equal(text.status, 501);
  assert.match(text.error, /match\.text/);
  const rec = await failure(reader.query("docs", { query: { recommend: { positive: [1] } } }));
  assert.equal(rec.status, 501);
  assert.match(rec.error, /recommend/);
  const manhattan = await failure(writer.createCollection("m", { vectors: { size: 2, distance: "Manhattan" } }));
  assert.equal(manhattan.status, 501);
  assert.match(manhattan.error, /Manhattan/);
  const raw = await s.call("POST", "/collections/docs/points/query", {
    key: readKey,
    body: { query: [1, 2], limit: -1 },
  });
  assert.equal(raw.status, 400);
  assert.equal(typeof raw.json.status.error, "string");
  assert.match(raw.json.status.error, /limit/);
});

test("sparse vectors: sparse_vectors in the config, { indices, values } in points (both forms), query and search `using` them", async () => {
  await writer.createCollection("hybrid", {
    vectors: { size: 2, distance: "Dot" },
    sparse_vectors: { terms: {}, splade: { modifier: "none", index: { on_disk: false } } },
  });
  // Term weights drawn at random; the expected ranking is a brute-force dot product.
  const points = Array.from({ length: 30 }, (_, i) => {
    const indices = [...new Set(Array.from({ length: 1 + (i % 5) }, () => Math.floor(random() * 40)))];
    return {
      id: i + 1,
      // float32 values, as Quiver stores them, so a point reads back exactly.
      vector: {
        "": [Math.fround(random()), Math.fround(random())],
        terms: { indices, values: indices.map(() => Math.fround(Math.round(random() * 100) / 100)) },
      },
      payload: { even: i % 2 === 0 },
    };
  });
  await writer.upsert("hybrid", { points: points.slice(0, 20) });
  await writer.upsert("hybrid", {
    batch: {
      ids: points.slice(20).map((p) => p.id),
      vectors: { "": points.slice(20).map((p) => p.vector[""]), terms: points.slice(20).map((p) => p.vector.terms) },
      payloads: points.slice(20).map((p) => p.payload),
    },
  });
  const info = await writer.getCollection("hybrid");
  assert.deepEqual(Object.keys(info.config.params.sparse_vectors ?? {}).sort(), ["splade", "terms"]);
  assert.deepEqual(info.config.params.vectors, {
    size: 2,
    distance: "Dot",
    on_disk: false,
    hnsw_config: { m: 16, ef_construct: 200 },
  });
  const [stored] = await writer.retrieve("hybrid", { ids: [3], with_vector: true });
  const sorted = [...points[2].vector.terms.indices].sort((a, b) => a - b);
  assert.deepEqual(stored.vector, {
    "": points[2].vector[""],
    terms: {
      indices: sorted,
      values: sorted.map((ix) => points[2].vector.terms.values[points[2].vector.terms.indices.indexOf(ix)]),
    },
  });
  const query = { indices: [3, 7, 11, 19, 23, 31], values: [0.5, 1, 0.25, 2, 0.75, 1.5] };
  const dotWith = (p: (typeof points)[number]) =>
    p.vector.terms.indices.reduce(
      (s, ix, k) => s + p.vector.terms.values[k] * (query.values[query.indices.indexOf(ix)] ?? 0),
      0,
    );
  const expected = points
    .map((p) => ({ id: p.id, score: dotWith(p), even: p.payload.even }))
    .filter((p) => p.score > 0)
    .sort((a, b) => b.score - a.score || a.id - b.id);
  const byQuery = await writer.query("hybrid", { query, using: "terms", limit: 5 });
  assert.deepEqual(
    byQuery.points.map((p) => p.score.toFixed(4)),
    expected.slice(0, 5).map((p) => p.score.toFixed(4)),
    "the exact top 5 by dot product",
  );
  const filtered = await writer.query("hybrid", {
    query: { nearest: query },
    using: "terms",
    filter: { must: [{ key: "even", match: { value: true } }] },
    limit: 3,
  });
  assert.deepEqual(
    filtered.points.map((p) => p.score.toFixed(4)),
    expected
      .filter((p) => p.even)
      .slice(0, 3)
      .map((p) => p.score.toFixed(4)),
  );
  // The 1.19 client has no search(); the older route is called as an older client would.
  const older = await s.call("POST", "/collections/hybrid/points/search", {
    key: readKey,
    body: { vector: { name: "terms", vector: query }, limit: 5 },
  });
  assert.equal(older.status, 200, older.text);
  assert.deepEqual(
    older.json.result.map((p: { id: number }) => p.id),
    byQuery.points.map((p) => p.id),
    "the older search API takes a NamedSparseVector",
  );
  const noUsing = await failure(writer.query("hybrid", { query, limit: 1 }));
  assert.equal(noUsing.status, 400);
  assert.match(noUsing.error, /using/);
  const bad = await failure(
    writer.upsert("hybrid", {
      points: [{ id: 99, vector: { "": [1, 1], terms: { indices: [2, 2], values: [1, Number.NaN] } } }],
    }),
  );
  assert.equal(bad.status, 400);
  assert.equal(await writer.count("hybrid", {}).then((c) => c.count), 30, "a rejected upsert writes nothing");
  const idf = await failure(writer.createCollection("idf", { sparse_vectors: { t: { modifier: "idf" } } }));
  assert.equal(idf.status, 501);
  assert.match(idf.error, /idf/);
  await writer.createCollection("sparse-only", { sparse_vectors: { t: {} } });
  await writer.upsert("sparse-only", { points: [{ id: 1, vector: { t: { indices: [5], values: [2] } } }] });
  const only = await writer.query("sparse-only", { query: { indices: [5], values: [3] }, using: "t" });
  assert.deepEqual([only.points[0].id, only.points[0].score], [1, 6]);
});
