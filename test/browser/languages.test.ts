/**
 * Stop-word lists on demand (src/analyzers/languages.ts), in Node: every language loads the same list
 * the Node entry holds eagerly; the browser entry rejects a schema naming a language it was not given,
 * saying how to load it, and accepts it once loaded; unknown codes are rejected with every one named.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultTextPlugins } from "../../src/analyzers/plugins.js";
import { ISO1 } from "../../src/analyzers/resources.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { loadStopWords, open } from "../../src/web.js";

test("every language loads on demand the same list the Node entry holds (ISO 639-1 and 639-3 codes)", async () => {
  const codes = [...Object.keys(ISO1), ...Object.values(ISO1)];
  const { stopWords } = await loadStopWords(codes);
  for (const code of codes) assert.deepEqual(stopWords?.[code], defaultTextPlugins.stopWords?.[code], code);
  assert.ok(codes.length > 100);
});

test("the browser entry has English only until a language is loaded, and says how to load it", async () => {
  const schema = {
    vectors: { v: { dim: 2, metric: "l2" as const } },
    text: { corps: { analyzer: "standard" as const, stopWords: "fr" } },
  };
  const bare = await open();
  await assert.rejects(bare.createCollection("t", schema), (e: unknown) => {
    assert.ok(isQuiverError(e, "INVALID_ARGUMENT"));
    assert.match(e.message, /loadStopWords\(\["fr"\]\)/);
    return true;
  });
  await bare.close();
  const db = await open(undefined, { text: await loadStopWords(["fr"]) });
  const c = await db.createCollection("t", schema);
  await c.upsert([{ id: "a", vector: [1, 2], payload: { corps: "le chat dort" } }]);
  assert.deepEqual((await c.query({ text: "le", limit: 5 })).hits, [], "a French stop word still matched");
  assert.equal((await c.query({ text: "chat", limit: 5 })).hits[0].id, "a");
  await db.close();
});

test("unknown language codes are rejected, each named", async () => {
  await assert.rejects(loadStopWords(["fr", "xx", "qq"]), (e: unknown) => {
    assert.ok(isQuiverError(e, "INVALID_ARGUMENT"));
    assert.deepEqual(
      e.problems.map((p) => p.message),
      ['unknown language code "xx"', 'unknown language code "qq"'],
    );
    return true;
  });
});
