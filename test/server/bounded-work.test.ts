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
