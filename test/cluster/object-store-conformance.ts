/**
 * The behaviour every ObjectStore must show (directory-backed, S3), as one node:test suite that each
 * implementation's test file runs against its own factory.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isQuiverError } from "../../src/core/errors/errors.js";
import type { ObjectStore } from "../../src/cluster/object-store.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Deterministic pseudo-random bytes, so a large-object mismatch is reproducible. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function objectStoreConformance(name: string, open: () => Promise<ObjectStore>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    it("returns exactly the bytes put, and null for a key never put", async () => {
      const store = await open();
      const big = pattern(3 * 1024 * 1024 + 17, 7);
      await store.put("shards/c/0/batches/0001", big);
      await store.put("empty", new Uint8Array(0));
      assert.deepEqual(await store.get("shards/c/0/batches/0001"), big);
      assert.deepEqual(await store.get("empty"), new Uint8Array(0));
      assert.equal(await store.get("shards/c/0/batches/0002"), null);
    });

    it("lists by prefix in key order with sizes, not other prefixes", async () => {
      const store = await open();
      await store.put("list/b/2", bytes("bb"));
      await store.put("list/a/1", bytes("a"));
      await store.put("list/a/10", bytes("aaaaaaaaaa"));
      await store.put("listing/x", bytes("x"));
      assert.deepEqual(await store.list("list/"), [
        { key: "list/a/1", size: 1 },
        { key: "list/a/10", size: 10 },
        { key: "list/b/2", size: 2 },
      ]);
      assert.deepEqual(await store.list("list/a/1"), [
        { key: "list/a/1", size: 1 },
        { key: "list/a/10", size: 10 },
      ]);
      assert.deepEqual(await store.list("nothing/"), []);
    });

    it("deletes, and deleting a missing key is not an error", async () => {
      const store = await open();
      await store.put("gone/1", bytes("x"));
      await store.delete("gone/1");
      await store.delete("gone/never");
      assert.equal(await store.get("gone/1"), null);
      assert.deepEqual(await store.list("gone/"), []);
    });

    it("a put of an existing key replaces it whole", async () => {
      const store = await open();
      await store.put("replace/k", bytes("a long first version"));
      await store.put("replace/k", bytes("short"));
      assert.deepEqual(await store.get("replace/k"), bytes("short"));
    });

    it("rejects keys that S3 and file systems would read differently, before storing anything", async () => {
      const store = await open();
      for (const key of ["", "/abs", "a//b", "a/../b", "a/./b", "sp ace", "tilde~", "x.tmp"]) {
        await assert.rejects(store.put(key, bytes("x")), (e) => isQuiverError(e, "INVALID_ARGUMENT"), key);
        await assert.rejects(store.get(key), (e) => isQuiverError(e, "INVALID_ARGUMENT"), key);
      }
      assert.ok((await store.list("")).every((o) => !o.key.includes(" ") && !o.key.includes("~")));
    });
  });
}
