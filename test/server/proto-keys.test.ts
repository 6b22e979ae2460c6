// Payload keys that name Object.prototype's members (`__proto__`, `constructor`, `toString`) are
// ordinary data: over HTTP a payload holding them as own keys (as JSON.parse gives them) is stored,
// returned by get and scroll exactly, filtered, indexed and grouped on like any other key, and a
// record without them never appears to have them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer } from "./helpers.js";

const RAW_PAYLOAD = '{"__proto__":{"polluted":true},"constructor":"c1","toString":"t1","n":1}';

test("payload keys __proto__, constructor and toString round-trip and filter, index and group like any key", async () => {
  const t = await startTestServer();
  try {
    const schema = { vectors: { v: { dim: 2, metric: "l2" } }, indexes: { toString: "keyword" } };
    assert.equal((await t.call("PUT", "/v1/collections/docs", { body: { schema } })).status, 200);
    // The body is sent as raw JSON so that "__proto__" arrives as an own key, as any client's JSON would carry it.
    const raw = `{"records":[{"id":"a","vectors":{"v":[0,0]},"payload":${RAW_PAYLOAD}},{"id":"b","vectors":{"v":[1,0]},"payload":{"n":2}}]}`;
    assert.equal((await t.call("POST", "/v1/collections/docs/upsert", { raw })).status, 200);
    const expected = JSON.parse(RAW_PAYLOAD);
    assert.ok(Object.hasOwn(expected, "__proto__"));

    const got = await t.call("POST", "/v1/collections/docs/get", { body: { ids: ["a", "b"] } });
    assert.equal(got.status, 200);
    assert.equal(JSON.stringify(got.json.records[0].payload), RAW_PAYLOAD);
    assert.equal(JSON.stringify(got.json.records[1].payload), '{"n":2}');
    const scrolled = await t.call("POST", "/v1/collections/docs/scroll", { body: {} });
    assert.equal(JSON.stringify(scrolled.json.records[0].payload), RAW_PAYLOAD);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined, "Object.prototype untouched");

    const count = async (filter: string) =>
      (await t.call("POST", "/v1/collections/docs/count", { raw: `{"filter":${filter}}` })).json.count;
    // Only "a" has these keys: "b" inherits toString and constructor but must not match on them.
    assert.equal(await count('{"constructor":{"$exists":true}}'), 1);
    assert.equal(await count('{"toString":{"$exists":true}}'), 1);
    assert.equal(await count('{"toString":"t1"}'), 1);
    assert.equal(await count('{"constructor":{"$in":["c1","x"]}}'), 1);
    assert.equal(await count('{"__proto__.polluted":true}'), 1);
    assert.equal(await count('{"__proto__":{"$exists":false}}'), 1);

    const grouped = await t.call("POST", "/v1/collections/docs/query", {
      body: { vector: [0, 0], groupBy: "constructor" },
    });
    assert.deepEqual(
      grouped.json.hits.map((h: { id: string; group?: unknown }) => [h.id, h.group ?? null]),
      [
        ["a", "c1"],
        ["b", null],
      ],
    );
  } finally {
    await t.close();
  }
});
