// "__proto__", "constructor" and "prototype" as user names: refused as collection, vector, embedder
// and field names (library and server), never read through a prototype when they appear as keys of
// user input, and harmless to the usage meter, which keys everything user-named by Map.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, MemoryDirectory, QuiverError } from "../../src/index.js";
import { UsageMeter } from "../../src/server/usage.js";
import { startTestServer } from "./helpers.js";

const invalidAt = (path: string) => (e: unknown) =>
  e instanceof QuiverError && e.code === "INVALID_ARGUMENT" && e.problems.some((p) => p.path === path);

test("reserved names are refused with their path in schemas and collection names", async () => {
  const db = await open();
  const vec = { dim: 2, metric: "cosine" };
  for (const name of ["__proto__", "constructor", "prototype"]) {
    await assert.rejects(db.createCollection(name, { vectors: { v: vec } } as never), invalidAt("name"));
    // JSON.parse makes "__proto__" an own key, as a request body would; a literal would set the prototype.
    const vectors = JSON.parse(`{"${name}": ${JSON.stringify(vec)}}`);
    await assert.rejects(db.createCollection("c", { vectors } as never), invalidAt(`schema.vectors.${name}`));
    const text = JSON.parse(`{"${name}": {}}`);
    await assert.rejects(db.createCollection("c", { vectors: {}, text } as never), invalidAt(`schema.text.${name}`));
    const indexes = JSON.parse(`{"a.${name}": "keyword"}`);
    await assert.rejects(
      db.createCollection("c", { vectors: { v: vec }, indexes } as never),
      invalidAt(`schema.indexes.a.${name}`),
    );
  }
  assert.deepEqual(await db.listCollections(), [], "nothing half-created");
  await db.close();
});

test("keys of user input are never looked up through the prototype", async () => {
  const db = await open();
  const c = await db.createCollection("c", { vectors: { v: { dim: 2, metric: "cosine" } } });
  const vectors = JSON.parse('{"constructor": [1, 0]}');
  await assert.rejects(c.upsert([{ id: "a", vectors }]), invalidAt("records[0].vectors.constructor"));
  await assert.rejects(c.query({ vector: JSON.parse('{"toString": [1, 0]}') }), invalidAt("vector.toString"));
  await db.close();
});

test("the usage meter keeps a collection called __proto__ as data, through a save and a reload", async () => {
  const dir = new MemoryDirectory();
  const meter = await UsageMeter.open(dir, { flushMs: 0 });
  meter.record("k1", "__proto__", { readUnits: 3, writeUnits: 0 });
  meter.record("k1", "constructor", { readUnits: 1, writeUnits: 0 });
  await meter.flush();
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  assert.equal(({} as Record<string, unknown>).readUnits, undefined, "Object.prototype untouched");
  const reloaded = await UsageMeter.open(dir);
  const all = reloaded.all();
  assert.deepEqual(Object.keys(all.collections).sort(), ["__proto__", "constructor"]);
  assert.equal(new Map(Object.entries(all.collections)).get("__proto__")?.readUnits, 3);
  assert.equal(new Map(Object.entries(reloaded.ofKey("k1").collections)).get("constructor")?.readUnits, 1);
});

test("over HTTP: a __proto__ collection is a 400 naming the path, and usage keeps answering", async () => {
  const t = await startTestServer();
  try {
    const made = await t.call("PUT", "/v1/collections/__proto__", {
      body: { schema: { vectors: { v: { dim: 2, metric: "cosine" } } } },
    });
    assert.equal(made.status, 400);
    assert.equal(made.json.path, "name");
    const raw = '{"schema": {"vectors": {"__proto__": {"dim": 2, "metric": "cosine"}}}}';
    const hidden = await t.call("PUT", "/v1/collections/c", { raw });
    assert.equal(hidden.status, 400);
    assert.equal(hidden.json.path, "schema.vectors.__proto__");
    assert.equal((await t.call("GET", "/v1/usage")).status, 200);
    assert.equal((await t.call("GET", "/v1/collections")).json.collections.length, 0);
  } finally {
    await t.close();
  }
});
