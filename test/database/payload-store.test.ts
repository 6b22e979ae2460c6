/**
 * Tests for the payload store: loaded payloads stay text until read (each parsed once, written back
 * as the stored text), a later load or a write replaces them, and a text is let go once none of its
 * payloads is unread.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { payloadTextsOf } from "../../src/storage/payload-texts.js";
import { PayloadStore } from "../../src/database/payload-store.js";

test("loaded payloads are parsed on first read, once, and written back as stored while unread", () => {
  const store = new PayloadStore();
  const stored = ['{"a":1}', '{ "b" : [2] }', '{"c":"é"}'];
  store.load(Uint32Array.from([5, 0, 70]), payloadTextsOf(stored));
  assert.equal(store.unread, 3);
  assert.equal(store.json(0), '{ "b" : [2] }'); // the stored text, not re-serialized
  const b = store.get(0);
  assert.deepEqual(b, { b: [2] });
  assert.equal(store.get(0), b, "parsed once: the same object on every read");
  assert.equal(store.unread, 2);
  assert.equal(store.json(0), '{"b":[2]}');
  assert.equal(store.get(1), undefined);
  assert.equal(store.json(1), "{}");
  store.set(5, { a: 9 });
  assert.deepEqual(store.get(5), { a: 9 });
  assert.equal(store.unread, 1);
  // A later segment replaces slot 70 (and fills 6): the first text has nothing unread left.
  store.load(Uint32Array.from([70, 6]), payloadTextsOf(['{"c":2}', '{"d":3}']));
  assert.equal(store.unread, 2);
  assert.deepEqual(store.get(70), { c: 2 });
  store.set(6, undefined);
  assert.equal(store.get(6), undefined);
  assert.equal(store.unread, 0);
  assert.equal(
    (store as unknown as { texts: unknown[] }).texts.every((t) => t === null),
    true,
    "texts let go",
  );
});
