/**
 * Stop-word lists on demand (src/analyzers/languages.ts), in Node: every language loads the same list
 * the Node entry holds eagerly; the browser entry's open() loads the lists a new or stored schema
 * names (when creating, replaying the log, following as a reader, reading the manifest), while the
 * runtime-neutral entry says how to pass one; unknown codes are rejected with every one named.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultTextPlugins } from "../../src/analyzers/plugins.js";
import { ISO1 } from "../../src/analyzers/resources.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { englishTextPlugins, loadStopWords, MemoryDirectory, open } from "../../src/web.js";
import { open as openNeutral } from "../../src/neutral.js";
import type { OpenDatabase } from "../../src/open.js";

test("every language loads on demand the same list the Node entry holds (ISO 639-1 and 639-3 codes)", async () => {
  const codes = [...Object.keys(ISO1), ...Object.values(ISO1)];
  const { stopWords } = await loadStopWords(codes);
  for (const code of codes) assert.deepEqual(stopWords?.[code], defaultTextPlugins.stopWords?.[code], code);
  assert.ok(codes.length > 100);
});

const FRENCH = {
  vectors: { v: { dim: 2, metric: "l2" as const } },
  text: { corps: { analyzer: "standard" as const, stopWords: "fr" } },
};
const GERMAN = { ...FRENCH, text: { korpus: { analyzer: "standard" as const, stopWords: "de" } } };

/** The text hits of `query` in collection `name`: a stop word must find nothing. */
async function textHits(db: OpenDatabase, name: string, query: string): Promise<string[]> {
  return (await (await db.collection(name)).query({ text: query, limit: 5 })).hits.map((h) => h.id);
}

test("the browser entry loads the stop words a new schema names; the runtime-neutral one says how to pass them", async () => {
  const db = await open();
  const c = await db.createCollection("t", FRENCH);
  await c.upsert([{ id: "a", vector: [1, 2], payload: { corps: "le chat dort" } }]);
  assert.deepEqual(await textHits(db, "t", "le"), [], "a French stop word still matched");
  assert.deepEqual(await textHits(db, "t", "chat"), ["a"]);
  // A code with no list is still refused with its path, not by the loader.
  await assert.rejects(
    db.createCollection("u", { ...FRENCH, text: { corps: { stopWords: "xx" } } }),
    (e: unknown) => isQuiverError(e, "INVALID_ARGUMENT") && e.problems[0]?.path === "schema.text.corps.stopWords",
  );
  await db.close();
  const bare = await openNeutral(undefined, { text: englishTextPlugins });
  await assert.rejects(bare.createCollection("t", FRENCH), (e: unknown) => {
    assert.ok(isQuiverError(e, "INVALID_ARGUMENT"));
    assert.match(e.message, /loadStopWords\(\["fr"\]\)/);
    return true;
  });
  await bare.close();
});

test("a stored database opens with the stop words its schemas need: from the log, by a reader, from the manifest", async () => {
  const dir = new MemoryDirectory();
  const writer = await open(dir);
  await (await writer.createCollection("fr", FRENCH)).upsert([
    { id: "a", vector: [1, 2], payload: { corps: "le chat dort" } },
  ]);
  // Nothing checkpointed yet: the reader finds the collection by replaying the log.
  const reader = await open(dir, { readOnly: true, refreshIntervalMs: 0 });
  assert.deepEqual(await textHits(reader, "fr", "le"), []);
  assert.deepEqual(await textHits(reader, "fr", "chat"), ["a"]);
  // Created after the reader opened: it meets the schema while following the writer.
  await (await writer.createCollection("de", GERMAN)).upsert([
    { id: "b", vector: [1, 2], payload: { korpus: "der Hund und die Katze" } },
  ]);
  await reader.refresh();
  assert.deepEqual(await textHits(reader, "de", "und"), [], "a German stop word still matched");
  assert.deepEqual(await textHits(reader, "de", "hund"), ["b"]);
  await reader.close();
  await writer.close(); // checkpoints: the schemas are now in the manifest
  const reopened = await open(dir);
  assert.deepEqual(await textHits(reopened, "fr", "le"), []);
  assert.deepEqual(await textHits(reopened, "de", "und"), []);
  assert.deepEqual(await textHits(reopened, "de", "katze"), ["b"]);
  await reopened.close();
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
