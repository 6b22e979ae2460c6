// Bounded work per request: long query texts are refused with a documented limit and its path,
// the text that is analysed is billed by its length, and long Chinese text is indexed in time
// linear in its length (windowed segmentation), in the library and over HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, QuiverError } from "../../src/index.js";
import { startTestServer } from "./helpers.js";

const HAN = "我们在北京大学学习中文今天天气很好我们去公园散步然后在图书馆看书";

test("a query text longer than maxQueryTextLength is LIMIT_EXCEEDED with its path, in the library", async () => {
  const db = await open(undefined, { limits: { maxQueryTextLength: 100 } });
  const c = await db.createCollection("docs", { vectors: {}, text: { body: {} } });
  await c.upsert([{ id: "a", payload: { body: HAN } }]);
  assert.equal((await c.query({ text: "x".repeat(100) })).hits.length, 0);
  for (const [text, path] of [
    ["x".repeat(101), "text"],
    [{ query: "x".repeat(101) }, "text.query"],
  ] as const) {
    await assert.rejects(
      c.query({ text }),
      (e: unknown) => e instanceof QuiverError && e.code === "LIMIT_EXCEEDED" && e.problems[0]?.path === path,
    );
  }
  await db.close();
});

test("over HTTP: too long a query text answers 422 with the path; the text analysed is billed by length", async () => {
  const t = await startTestServer({ dbOptions: { limits: { maxQueryTextLength: 4_000 } } });
  try {
    assert.equal(
      (await t.call("PUT", "/v1/collections/docs", { body: { schema: { vectors: {}, text: { body: {} } } } })).status,
      200,
    );
    await t.call("POST", "/v1/collections/docs/upsert", { body: { records: [{ id: "a", payload: { body: HAN } }] } });
    const tooLong = await t.call("POST", "/v1/collections/docs/query", { body: { text: HAN.repeat(200) } });
    assert.equal(tooLong.status, 422);
    assert.equal(tooLong.json.code, "LIMIT_EXCEEDED");
    assert.equal(tooLong.json.path, "text");
    const short = await t.call("POST", "/v1/collections/docs/query", { body: { text: "北京" } });
    const long = await t.call("POST", "/v1/collections/docs/query", { body: { text: "星".repeat(3_900) } });
    assert.equal(short.status, 200);
    assert.equal(long.status, 200);
    // 1 + compute + response: the short query's work (one match, two characters) is 1 unit; the
    // long one's 3,900 characters x 100 = 390,000 work are 4, and its plan lists 3,900 terms (2).
    const units = (r: { headers: Headers }) => Number(r.headers.get("quiver-read-units"));
    assert.deepEqual([units(short), units(long)], [1 + 1 + 1, 1 + 4 + 2]);
  } finally {
    await t.close();
  }
});

test("a long unbroken Chinese text is indexed and searched in linear time", async () => {
  const db = await open();
  const c = await db.createCollection("docs", { vectors: {}, text: { body: {} } });
  // 300k characters without a break took minutes with one Intl.Segmenter call; windows take ~1 s.
  const started = performance.now();
  await c.upsert([{ id: "big", payload: { body: HAN.repeat(Math.ceil(300_000 / HAN.length)) } }]);
  const hits = (await c.query({ text: "图书馆" })).hits;
  const ms = performance.now() - started;
  assert.deepEqual(
    hits.map((h) => h.id),
    ["big"],
  );
  assert.ok(ms < 20_000, `took ${Math.round(ms)} ms`);
  await db.close();
});

test("a filter larger than maxFilterSize is LIMIT_EXCEEDED with the path where it passed the limit", async () => {
  const db = await open(undefined, { limits: { maxFilterSize: 10 } });
  const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2" } } });
  await c.upsert([{ id: "a", vectors: { v: [1, 0] }, payload: { tag: "t3" } }]);
  const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
  // Size = keys of objects + elements of arrays: { tag: { $in: [9 values] } } is 1 + 1 + 9 = 11.
  assert.equal(await c.count({ tag: { $in: tags(8) } }), 1);
  const cases: [unknown, string][] = [
    [{ tag: { $in: tags(9) } }, "filter.tag.$in"],
    [{ $or: tags(10).map((t) => ({ tag: t })) }, "filter.$or"],
    [Object.fromEntries(tags(11).map((t) => [t, 1])), "filter"],
  ];
  for (const [filter, path] of cases) {
    for (const run of [() => c.count(filter as never), () => c.query({ vector: [1, 0], filter: filter as never })]) {
      await assert.rejects(
        run(),
        (e: unknown) => e instanceof QuiverError && e.code === "LIMIT_EXCEEDED" && e.problems[0]?.path === path,
      );
    }
  }
  await db.close();
});

test("limit, offset and ef past their limits are LIMIT_EXCEEDED; malformed ones INVALID_ARGUMENT; a vector given as text is capped like text", async () => {
  const db = await open(undefined, { limits: { maxTopK: 50, maxQueryTextLength: 100 } });
  const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2" } } });
  const code = async (req: Record<string, unknown>) => {
    try {
      await c.query({ vector: [1, 0], ...req });
      return "ok";
    } catch (e) {
      return `${(e as QuiverError).code} ${(e as QuiverError).problems[0]?.path}`;
    }
  };
  assert.equal(await code({ limit: 51 }), "LIMIT_EXCEEDED limit");
  assert.equal(await code({ limit: 40, offset: 11 }), "LIMIT_EXCEEDED offset");
  assert.equal(await code({ ef: 51 }), "LIMIT_EXCEEDED ef");
  assert.equal(await code({ ef: 0 }), "INVALID_ARGUMENT ef");
  assert.equal(await code({ ef: "wide" }), "INVALID_ARGUMENT ef");
  assert.equal(await code({ ef: 50, limit: 50 }), "ok");
  // Refused before any embedder is looked for: the length is known without one.
  assert.equal(await code({ vector: "x".repeat(101) }), "LIMIT_EXCEEDED vector");
  assert.equal(await code({ vector: { v: "x".repeat(101) } }), "LIMIT_EXCEEDED vector.v");
  await db.close();
});

test("groupBy examines at most maxGroupScan ranked hits", async () => {
  const records = Array.from({ length: 100 }, (_, i) => ({
    id: `r${i}`,
    vectors: { v: [i, 0] },
    // The 99 nearest to [0, 0] share one group; only the farthest is in another.
    payload: { doc: i === 99 ? "far" : "near" },
  }));
  for (const [maxGroupScan, groups] of [
    [1_000, ["near", "far"]],
    [50, ["near"]],
  ] as const) {
    const db = await open(undefined, { limits: { maxGroupScan } });
    const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2", index: { type: "flat" } } } });
    await c.upsert(records);
    const { hits } = await c.query({ vector: [0, 0], limit: 2, groupBy: "doc" });
    assert.deepEqual(
      hits.map((h) => h.group),
      groups,
    );
    await db.close();
  }
});

test("over HTTP: a query's read units grow with its filter's size times the payloads it checked", async () => {
  const t = await startTestServer();
  try {
    const schema = { vectors: { v: { dim: 2, metric: "l2" } } };
    assert.equal((await t.call("PUT", "/v1/collections/docs", { body: { schema } })).status, 200);
    const records = Array.from({ length: 2_000 }, (_, i) => ({
      id: `r${i}`,
      vectors: { v: [i, 1] },
      payload: { n: i },
    }));
    assert.equal((await t.call("POST", "/v1/collections/docs/upsert", { body: { records } })).status, 200);
    const units = async (filter: unknown) => {
      const r = await t.call("POST", "/v1/collections/docs/query", { body: { vector: [0, 0], limit: 1, filter } });
      assert.equal(r.status, 200);
      return Number(r.headers.get("quiver-read-units"));
    };
    // Filter size 2 ({ n: { $gte } }): 2,000 payloads x 2 x 100 + 2,000 scanned x dim 2 = 404,000 work: 5 units.
    const small = await units({ n: { $gte: 0 } });
    // Size 502 (500 listed values): 2,000 x 502 x 100 + 500 scanned x 2 = 100,401,000 work: 1,005 units.
    const large = await units({ n: { $in: Array.from({ length: 500 }, (_, i) => i * 4) } });
    assert.equal(small, 1 + 5 + 1);
    assert.equal(large, 1 + 1_005 + 1);
    const tooLarge = await t.call("POST", "/v1/collections/docs/count", {
      body: { filter: { n: { $in: Array.from({ length: 1_100 }, (_, i) => i) } } },
    });
    assert.deepEqual(
      [tooLarge.status, tooLarge.json.code, tooLarge.json.path],
      [422, "LIMIT_EXCEEDED", "filter.n.$in"],
    );
  } finally {
    await t.close();
  }
});
